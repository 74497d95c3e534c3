"""VM: QEMU command lines and the accelerator probe, snapshots, the serial
console, and a booted guest's command channel (serial or SSH)."""
