"""Hardware targets a converted program can be placed on (this file is replaced at merge)."""
