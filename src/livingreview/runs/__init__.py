"""Stage 'runs': the record of one run, written last, and the scheduler's helpers.

Consumes what the run's stages wrote, exactly the files the rule ``run_record`` declares
(:mod:`.inputs`). Produces ``results/runs/<run_date>/``: ``summary.json`` and ``summary.md``
(what this run found and what changed since the previous run record), ``manifest.json`` (the
config without secrets, software versions and the checksums of every input, code file and
output) and, with ``runs.notify_command`` set, ``notification.json``.

Modules:

- :mod:`.inputs`: the declared inputs, by name;
- :mod:`.record`: the run record assembled (summary.json, manifest.json);
- :mod:`.stages`: what each stage's files say about the run;
- :mod:`.todo`: the to-do block, from the stages' to-do files;
- :mod:`.estimates`: whether the pooled estimates moved;
- :mod:`.manifest`: checksums, software versions, the config without secrets;
- :mod:`.summary`: summary.md;
- :mod:`.notify`: the notification command;
- :mod:`.ending`: what a run prints last (to-do block, the one error line);
- :mod:`.scheduler`: exit codes and clean-up for ``bin/scheduled-update``
  (``python -m livingreview.runs --help``).
"""
