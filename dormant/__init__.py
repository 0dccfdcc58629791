"""The `dormant` command line and the embedded development stack it runs."""
