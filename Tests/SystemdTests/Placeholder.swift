// Tests for Systemd.
