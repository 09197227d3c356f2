"""``python -m conformance.cli``: the ``sms-conformance`` command."""

from conformance.cli import main

if __name__ == "__main__":
    main()
