"""Build: kconfig (base + fragments, every request checked), the kernel build
cached by content key, the guest modules and programs, the initramfs."""
