import sys

from validate.bench.cli import main

sys.exit(main())
