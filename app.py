"""讲稿助手 web app: `python app.py` (or `make run`)."""

import sys

from assistant.app_main import serve

if __name__ == "__main__":
    sys.exit(serve())
