"""Symbolise kernel stack frames: ``func+0x1a/0x80 [mod]`` gains ``file:line``.

Given the variant's ``vmlinux`` and its modules' ``.ko`` files, each frame's
function start is looked up in the ELF symbol table (read here, standard
library only) and ``addr2line`` maps ``start + offset`` to source lines,
inlined callers included (one extra line per inlined frame, marked
``[inline]``, as ``scripts/decode_stacktrace.sh`` and syzbot print them).
Return addresses point after the call, so one byte is subtracted for every
frame except the faulting ``RIP:``/``pc :`` line.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

__all__ = ["Symbolizer", "SymbolizeError", "read_function_symbols"]


class SymbolizeError(Exception):
    """A binary could not be read or addr2line is unavailable."""


@dataclass(frozen=True)
class Symbol:
    value: int
    size: int
    section: str | None  # set for relocatable objects (.ko): addresses are section offsets


_FRAME = re.compile(
    r"(?P<pre>(?:RIP: [0-9a-f]{4}:|pc : |PC is at |IP: )?)"
    r"(?P<func>[A-Za-z_][A-Za-z0-9_.]*)\+0x(?P<off>[0-9a-f]+)/0x(?P<size>[0-9a-f]+)"
    r"(?: \[(?P<mod>[A-Za-z0-9_\-]+)(?: [0-9a-f]+)?\])?"
)


def read_function_symbols(path: str | os.PathLike) -> dict[str, list[Symbol]]:
    """Read the function symbols of an ELF file (symtab, else dynsym)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise SymbolizeError(f"{path}: cannot read: {e.strerror or e}") from None
    if data[:4] != b"\x7fELF":
        raise SymbolizeError(f"{path}: not an ELF file")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    if is64:
        e_type, = struct.unpack_from(end + "H", data, 16)
        shoff, = struct.unpack_from(end + "Q", data, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x3A)
        sh_fmt, sym_fmt = end + "IIQQQQIIQQ", end + "IBBHQQ"
    else:
        e_type, = struct.unpack_from(end + "H", data, 16)
        shoff, = struct.unpack_from(end + "I", data, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(end + "HHH", data, 0x2E)
        sh_fmt, sym_fmt = end + "IIIIIIIIII", end + "IIIBBH"
    sections = [struct.unpack_from(sh_fmt, data, shoff + i * shentsize) for i in range(shnum)]

    def name_at(strtab_idx: int, off: int) -> str:
        sh = sections[strtab_idx]
        start = sh[4] + off
        stop = data.index(b"\0", start)
        return data[start:stop].decode("utf-8", "replace")

    sec_names = [name_at(shstrndx, sh[0]) for sh in sections] if shstrndx < shnum else [""] * shnum
    relocatable = e_type == 1
    symtabs = [i for i, sh in enumerate(sections) if sh[1] == 2] or \
              [i for i, sh in enumerate(sections) if sh[1] == 11]
    out: dict[str, list[Symbol]] = {}
    for idx in symtabs:
        sh = sections[idx]
        offset, size, link, entsize = sh[4], sh[5], sh[6], sh[9]
        for k in range(size // entsize if entsize else 0):
            ent = struct.unpack_from(sym_fmt, data, offset + k * entsize)
            if is64:
                st_name, st_info, _other, shndx, value, sz = ent
            else:
                st_name, value, sz, st_info, _other, shndx = ent
            if st_info & 0xF != 2 or shndx == 0 or shndx >= 0xFF00:  # STT_FUNC, defined
                continue
            name = name_at(link, st_name)
            sec = sec_names[shndx] if relocatable and shndx < len(sec_names) else None
            out.setdefault(name, []).append(Symbol(value, sz, sec))
    return out


class Symbolizer:
    """Adds ``file:line`` to frames of kernel reports.

    *modules* may name ``.ko`` files or directories searched for them; a
    module's name is its file name without ``.ko`` with ``-`` read as ``_``.
    """

    def __init__(self, vmlinux: str | os.PathLike | None = None,
                 modules: Iterable[str | os.PathLike] = (), addr2line: str | None = None,
                 source_root: str | os.PathLike | None = None):
        # file names relative to the kernel tree, as decode_stacktrace.sh prints them
        self.source_root = (os.fspath(source_root).rstrip("/") + "/") if source_root else None
        self.addr2line = addr2line or shutil.which("addr2line")
        if self.addr2line is None:
            raise SymbolizeError("addr2line not found (install binutils)")
        self.binaries: dict[str | None, str] = {}
        if vmlinux:
            self.binaries[None] = os.fspath(vmlinux)
        for m in modules:
            p = Path(m)
            files = sorted(p.rglob("*.ko")) if p.is_dir() else [p]
            for f in files:
                self.binaries[f.name.removesuffix(".ko").replace("-", "_")] = os.fspath(f)
        self._symbols: dict[str | None, dict[str, list[Symbol]]] = {}
        self._cache: dict[tuple, list[tuple[str, str]]] = {}

    def _syms(self, module: str | None) -> dict[str, list[Symbol]]:
        if module not in self._symbols:
            path = self.binaries.get(module)
            self._symbols[module] = read_function_symbols(path) if path else {}
        return self._symbols[module]

    def _key(self, func: str, offset: int, size: int, module: str | None,
             exact: bool) -> tuple | None:
        """(module, section, address) of func+offset, None when unknown."""
        module = module.replace("-", "_") if module else None
        if module not in self.binaries:
            return None
        cands = self._syms(module).get(func)
        if not cands:
            return None
        sym = next((s for s in cands if size and s.size == size), cands[0])
        return (module, sym.section, sym.value + offset - (0 if exact else 1))

    def locate(self, func: str, offset: int, size: int = 0, module: str | None = None,
               exact: bool = False) -> list[tuple[str, str]]:
        """Source locations of ``func+offset`` as [(function, "file:line")],
        innermost (inlined) first; [] when unknown."""
        key = self._key(func, offset, size, module, exact)
        if key is None:
            return []
        if key not in self._cache:
            module, section, addr = key
            self._cache[key] = self._run(self.binaries[module], section, [addr]).get(addr, [])
        return self._cache[key]

    def _prefetch(self, lines: list[str]) -> None:
        """One addr2line per binary for all the frames of a text (not one per frame:
        each run reloads the binary's line tables)."""
        want: dict[tuple, set[int]] = {}
        for line in lines:
            m = _FRAME.search(line)
            if not m:
                continue
            key = self._key(m["func"], int(m["off"], 16), int(m["size"], 16), m["mod"], bool(m["pre"]))
            if key is not None and key not in self._cache:
                want.setdefault(key[:2], set()).add(key[2])
        for (module, section), addrs in want.items():
            found = self._run(self.binaries[module], section, sorted(addrs))
            for a in addrs:
                self._cache[(module, section, a)] = found.get(a, [])

    def _run(self, binary: str, section: str | None, addrs: list[int]) -> dict[int, list[tuple[str, str]]]:
        cmd = [self.addr2line, "-a", "-f", "-i", "-e", binary]
        if section:
            cmd += ["-j", section]
        cmd += [hex(a) for a in addrs]
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=False).stdout
        except (OSError, subprocess.SubprocessError) as e:
            raise SymbolizeError(f"addr2line failed: {e}") from None
        res: dict[int, list[tuple[str, str]]] = {}
        cur = None
        lines = out.splitlines()
        i = 0
        while i < len(lines):
            ln = lines[i]
            if ln.startswith("0x"):
                cur = int(ln, 16)
                res[cur] = []
                i += 1
                continue
            if cur is not None and i + 1 < len(lines):
                fn, loc = ln.strip(), lines[i + 1].strip()
                loc = loc.split(" (discriminator")[0]
                if self.source_root and loc.startswith(self.source_root):
                    loc = loc[len(self.source_root):]
                if not loc.startswith("??"):
                    res[cur].append((fn, loc))
                i += 2
                continue
            i += 1
        return res

    def symbolize_line(self, line: str) -> str:
        """Return *line* with ``file:line`` after its frame (plus a line per
        inlined function before it); unchanged when unknown."""
        m = _FRAME.search(line)
        if not m:
            return line
        locs = self.locate(m["func"], int(m["off"], 16), int(m["size"], 16), m["mod"], exact=bool(m["pre"]))
        if not locs:
            return line
        out = []
        indent = line[: m.start("func")]
        if indent.strip():
            indent = " "
        for fn, loc in locs[:-1]:
            out.append(f"{indent}{fn} {loc} [inline]")
        end = m.end("size")
        out.append(f"{line[:end]} {locs[-1][1]}{line[end:]}")
        return "\n".join(out)

    def symbolize_text(self, text: str) -> str:
        lines = text.split("\n")
        self._prefetch(lines)
        return "\n".join(self.symbolize_line(ln) for ln in lines)

    def symbolize_report(self, report) -> None:
        """Symbolise ``report.text`` in place; set ``report.location``."""
        report.text = self.symbolize_text(report.text)
        if report.frame:
            pat = re.compile(re.escape(report.frame) + r"\+0x[0-9a-f]+/0x[0-9a-f]+(?: \[[^\]]+\])? (\S+:\d+)")
            m = pat.search(report.text)
            if m:
                report.location = m.group(1)
