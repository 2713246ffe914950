"""Rule tests in YAML (`wendu rules test`): spec (the file format), timeline (times and
events), world (the engine on a time-skipping server), expect (what happened vs expected),
coverage, runner and report."""
