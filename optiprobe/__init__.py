"""optiprobe."""
