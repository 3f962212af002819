"""The few symbols the interface uses, chosen from characters that the CJK and DejaVu fonts carry.

Colour emoji (⏳ ✅ ❌, or ⚠ with the emoji selector) render as empty boxes on machines without an emoji font,
which is the common case on office desktops and on the CI browser; these do not.
"""

BUSY = "○"  # a turn is being worked on
OK = "✓"
WARN = "⚠"
ERROR = "✗"
CURSOR = "▍"  # the end of text still being written
