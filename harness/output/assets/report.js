(function(){
var meta=JSON.parse(document.getElementById('meta').textContent);
var idx={};meta.cells.forEach(function(id,i){idx[id]=i;});
function E(s){return String(s==null?'':s).replace(/[&<>"']/g,function(c){return{'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c];});}
function fmt(s){if(typeof s!=='number')return '–';return s<60?s.toFixed(1)+' s':Math.floor(s/60)+' min '+Math.round(s%60)+' s';}
var FRAME=/([A-Za-z_][\w.]*)(\+0x[0-9a-f]+\/0x[0-9a-f]+)((?: \[[\w-]+(?: [0-9a-f]+)?\])?)((?: \S+\.(?:c|h|S|rs|cc|cpp):\d+(?::\d+)?)?)/g;
function frames(t){return E(t).replace(FRAME,function(m,fn,off,mod,loc){return '<span class=fn>'+fn+'</span>'+off+mod+(loc?' <span class=loc>'+loc.trim()+'</span>':'');});}
function cmd(label,text){return '<div class=cmd><pre>'+E(text)+'</pre><button data-copy="'+E(text)+'">copy</button></div>';}
function tag(cat,txt){return '<span class="tag '+cat+'">'+E(txt)+'</span>';}
function render(d){
 var h=[],i;
 h.push('<h2>'+E(d.scenario)+' <small>on '+E(d.variant)+'/'+E(d.profile)+'</small></h2>');
 h.push(tag(d.cat,meta.labels[d.cat])+(d.passed?tag('ok','as expected ✓'):(d.cat==='na'?'':tag('crash','FAILED ✗'))));
 (d.marks||[]).forEach(function(m){h.push('<span class="mark m-'+m+'"></span>'+E(m.replace(/-/g,' '))+' ');});
 var kv=[['cell',d.id],['outcome',d.outcome],['expected',d.expected],['why',d.why],['detail',d.detail],
  ['attempts',d.attempts+(d.flaky?' (flaky: first attempt '+(d.first_attempt?d.first_attempt.outcome+' — '+(d.first_attempt.why||''):'failed')+')':'')],
  ['duration',fmt(d.duration_s)],['boot',d.boot?d.boot+(d.console_lines?' lines '+d.console_lines.join('–'):'')+(typeof d.boot_s==='number'?' ('+fmt(d.boot_s)+' to boot)':''):''],
  ['kernel',d.build?(d.build.release||'')+(d.build.key?' · key '+String(d.build.key).slice(0,16):''):''],['tainted',d.tainted]];
 if(d.baseline_cell)kv.push(['baseline '+meta.baseline,d.baseline_cell.outcome+(d.baseline_cell.passed?' (as expected)':' (failed)')+(d.baseline_cell.titles.length?': '+d.baseline_cell.titles.join('; '):'')]);
 h.push('<div class=kv>');kv.forEach(function(p){if(p[1]!==undefined&&p[1]!==null&&p[1]!=='')h.push('<div>'+E(p[0])+'</div><div>'+E(p[1])+'</div>');});h.push('</div>');
 h.push('<h3>Reproduce</h3>'+cmd('repro',d.repro)+cmd('sh',d.repro_sh));
 if(d.qemu)h.push('<h3>QEMU command line</h3>'+cmd('qemu',d.qemu));
 var steps=d.steps||[];
 if(steps.length){h.push('<h3>Steps</h3><table class="list small steps"><thead><tr><th>step</th><th>command</th><th>exit</th><th>time</th><th>note / output</th></tr></thead><tbody>');
  steps.forEach(function(s){var bad=s.ok===false;
   var out=s.output?'<details><summary>output ('+s.output.split('\n').length+' lines)</summary><pre>'+E(s.output)+'</pre></details>':'';
   var sub='';
   if(s.subtests&&s.subtests.length){var n={pass:0,skip:0,fail:0};
    s.subtests.forEach(function(t){var r=t.result==='pass'?'pass':(t.result==='skip'?'skip':'fail');n[r]++;});
    sub='<details'+(n.fail?' open':'')+'><summary>'+s.subtests.length+' subtests: '+n.pass+' pass, '+n.fail+' fail, '+n.skip+' skip</summary><table class="list small subtests"><tbody>'+
     s.subtests.map(function(t){var r=t.result==='pass'?'ok':(t.result==='skip'?'na':'bad');
      return '<tr class=st-'+r+'><td>'+E(t.name)+'</td><td class='+(r==='bad'?'bad':'')+'>'+E(t.result)+'</td><td>'+E(t.detail||'')+'</td></tr>';}).join('')+'</tbody></table></details>';}
   var ev='';
   if(s.evidence){var x=s.evidence,dc=x.decision||{};
    ev='<details open class=evidence><summary>at the deadline: <b>'+E(dc.kind||'?')+'</b> — '+E(dc.why||'')+'</summary><p>'+E(x.summary||'')+'</p>'+
     (x.console_lines&&d.console?'<button class=rbtn data-line="'+x.console_lines[0]+'">show the kernel\'s answer in the console</button>':'')+'</details>';}
   var ext=s.extension?'<p class=muted>extended once: '+E(s.extension)+'</p>':'';
   h.push('<tr><td>'+(bad?'✗ ':'✓ ')+E(s.name)+'</td><td><code>'+E(s.command)+'</code></td><td class="'+(bad?'bad':'')+'">'+E(s.exit_status)+(s.expected_exit!=null&&s.expected_exit!==0?' (want '+E(s.expected_exit)+')':'')+'</td><td class=n>'+fmt(s.duration_s)+'</td><td>'+E(s.note||'')+ext+ev+out+sub+'</td></tr>');});
  h.push('</tbody></table>');}
 var reps=d.reports||[];
 h.push('<h3>Kernel reports ('+reps.length+')</h3>');
 if(!reps.length)h.push('<p class=muted>none</p>');
 reps.forEach(function(r,k){
  h.push('<div class="report'+(r.expected?' exp':'')+'"><h4>'+(r.expected?tag('xcrash','expected'):tag('crash','unexpected'))+E(r.title)+'</h4><div class=kv>');
  [['kind',r.kind],['frame',r.frame],['location',r.location],['module',r.module],['last unloaded',r.last_unloaded],['step',r.step],['console lines',r.start_line!=null?r.start_line+'–'+r.end_line:''],['signature',r.signature],['corrupted',r.corrupted?'yes (report text may be incomplete)':'']].forEach(function(p){if(p[1]!=null&&p[1]!=='')h.push('<div>'+E(p[0])+'</div><div>'+E(p[1])+'</div>');});
  h.push('</div>'+(d.console&&r.start_line!=null?'<button class=rbtn data-line="'+r.start_line+'">show in console</button>':'')+'<pre class=rt>'+frames(r.text||'')+'</pre></div>');});
 h.push('<h3>Console</h3>');
 var c=d.console;
 if(c){
  var hl=reps.map(function(r){return [r.start_line,r.end_line,!!r.expected];});
  h.push('<p class=muted>'+E(c.header||'')+(c.omitted?' — '+c.omitted+' of '+c.total+' lines left out here (full log: <a href="'+E(d.dir)+'/console.log">console.log</a>)':'')+'</p><div id=console>');
  var prev=null;
  c.chunks.forEach(function(ch){var no=ch[0];
   if(prev!==null&&no>prev)h.push('<div class=gap><span class=no></span>… '+(no-prev)+' lines …</div>');
   else if(prev===null&&no>c.first)h.push('<div class=gap><span class=no></span>… '+(no-c.first)+' lines …</div>');
   ch[1].forEach(function(line){var cls='',j;
    for(j=0;j<hl.length;j++){if(no>=hl[j][0]&&no<=hl[j][1]){cls='hl'+(hl[j][2]?' exp':'');break;}}
    var t=E(line).replace(/^(\[host [^\]]*\] ?)/,'<span class=host>$1</span>');
    if(line.indexOf('HARNESS-STEP')>=0)t='<span class=step>'+t+'</span>';
    h.push('<div id=L'+no+(cls?' class="'+cls+'"':'')+'><span class=no>'+no+'</span>'+t+'</div>');no++;});
   prev=no;});
  if(prev!==null&&prev<c.first+c.total)h.push('<div class=gap><span class=no></span>… '+(c.first+c.total-prev)+' lines …</div>');
  h.push('</div>');
 } else h.push('<p class=muted>no console log recorded for this cell</p>');
 if(d.files&&d.files.length)h.push('<h3>Files</h3><p>'+d.files.map(function(f){return '<a href="'+E(d.dir)+'/'+E(f)+'">'+E(f)+'</a>';}).join(' · ')+'</p>');
 return h.join('');
}
var box=document.getElementById('detail'),body=document.getElementById('detail-body');
function show(id){var i=idx[id];if(i===undefined){box.hidden=true;return;}
 var d=JSON.parse(document.getElementById('d'+i).textContent);
 body.innerHTML=render(d);box.hidden=false;document.getElementById('detail-box').scrollTop=0;
 var first=(d.reports||[])[0];var con=document.getElementById('console');
 if(first&&con){var el=document.getElementById('L'+first.start_line);if(el)con.scrollTop=Math.max(0,el.offsetTop-con.offsetTop-60);}
 document.title=id+' — '+meta.run;}
function fromHash(){var m=/^#cell=(.*)$/.exec(location.hash);if(m)show(decodeURIComponent(m[1]));else box.hidden=true;}
window.addEventListener('hashchange',fromHash);
function close(){if(/^#cell=/.test(location.hash)){try{history.pushState('',document.title,location.pathname+location.search);}catch(e){location.hash='';}}box.hidden=true;document.title=meta.title;}
document.getElementById('close').onclick=close;
box.addEventListener('click',function(e){if(e.target===box)close();});
document.addEventListener('keydown',function(e){if(e.key==='Escape'&&!box.hidden)close();});
function copy(text,btn){function done(){btn.textContent='copied ✓';setTimeout(function(){btn.textContent='copy';},1500);}
 if(navigator.clipboard&&window.isSecureContext){navigator.clipboard.writeText(text).then(done,fallback);}else fallback();
 function fallback(){var ta=document.createElement('textarea');ta.value=text;document.body.appendChild(ta);ta.select();try{document.execCommand('copy');done();}catch(e){}document.body.removeChild(ta);}}
body.addEventListener('click',function(e){var b=e.target.closest('button');if(!b)return;
 if(b.dataset.copy!==undefined)copy(b.dataset.copy,b);
 if(b.dataset.line){var el=document.getElementById('L'+b.dataset.line),con=document.getElementById('console');if(el&&con){con.scrollIntoView();con.scrollTop=Math.max(0,el.offsetTop-con.offsetTop-40);}}});
var ob=document.getElementById('onlybad');if(ob)ob.onchange=function(){document.body.classList.toggle('onlybad',ob.checked);};
var fl=document.getElementById('filter');if(fl)fl.oninput=function(){var q=fl.value.toLowerCase();
 Array.prototype.forEach.call(document.querySelectorAll('#grid tbody tr'),function(tr){tr.style.display=tr.firstChild.textContent.toLowerCase().indexOf(q)>=0?'':'none';});};
fromHash();
document.documentElement.setAttribute('data-render-ms',performance.now().toFixed(1));
window.addEventListener('load',function(){document.documentElement.setAttribute('data-load-ms',performance.now().toFixed(1));});
})();
