"""``python -m agora_node.cli``: the ``agora-node`` command."""

import sys

from agora_node.cli import main

sys.exit(main())
