"""Infrastructure every layer may use: errors (each carries its exit status), the
harness configuration (configs/harness.yaml), the YAML schema checker, small
helpers (subprocess, hashing, locks, atomic writes) and progress lines."""
