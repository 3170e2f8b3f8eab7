"""Stage 'runs': every run's identity and entry, the record of its run_date, written last,
and the scheduler's helpers.

Consumes what the run's stages wrote, exactly the files the rule ``run_record`` declares
(:mod:`.inputs`). Produces ``results/runs/by-date/<run_date>/``: ``summary.json`` and
``summary.md`` (what the review found and what changed since the record of the previous
run_date), ``manifest.json`` (the config without secrets, software versions and the checksums
of every input, code file and output) and, with ``runs.notify_command`` set,
``notification.json``; then each run's own entry ``results/runs/<run_id>/`` (:mod:`.register`).

Modules:

- :mod:`.registry`: run ids, entries, the index, the latest run (the contract);
- :mod:`.runlock`: the project's run lock and its holder note;
- :mod:`.planning`: errors found while planning, marked like a failed job's;
- :mod:`.register`: a run's own folder, archived inputs and history entry;
- :mod:`.archive`: the human inputs' bytes, stored by content;
- :mod:`.reproduce`: rebuilding a past run in a fresh copy of the project;
- :mod:`.cli`: ``python -m livingreview.runs`` (latest, show, list, new-id, reproduce);

- :mod:`.inputs`: the declared inputs, by name;
- :mod:`.record`: the run record assembled (summary.json, manifest.json);
- :mod:`.stages`: what each stage's files say about the run;
- :mod:`.todo`: the to-do block, from the stages' to-do files;
- :mod:`.estimates`: whether the pooled estimates moved;
- :mod:`.manifest`: checksums, software versions, the config without secrets;
- :mod:`.summary`: summary.md;
- :mod:`.notify`: the notification command;
- :mod:`.ending`: what a run prints last (to-do block, the one error line), who may start;
- :mod:`.scheduler`: exit codes and clean-up for ``bin/scheduled-update``.
"""
