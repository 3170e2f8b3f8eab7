"""A minimal cluster executor for tests (``--executor testcluster``, found by Snakemake on
PYTHONPATH like any installed executor plugin): it submits a job as the SLURM executor plugin
does, by running ``sbatch`` (whatever ``sbatch`` is on PATH; a test puts a stand-in there) and
reports back through the executor interface the same way: a refused submission with
``report_job_error`` and no cluster job id, an accepted one with ``report_job_submission`` and
the id sbatch printed. An accepted job never runs: its first status check reports it failed
on the cluster (with its cluster job id), as a job that died on a node would be.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncGenerator

from snakemake_interface_executor_plugins.executors.base import SubmittedJobInfo
from snakemake_interface_executor_plugins.executors.remote import RemoteExecutor
from snakemake_interface_executor_plugins.jobs import JobExecutorInterface
from snakemake_interface_executor_plugins.settings import CommonSettings

common_settings = CommonSettings(
    non_local_exec=True,
    implies_no_shared_fs=False,
    job_deploy_sources=False,
    pass_default_storage_provider_args=True,
    pass_default_resources_args=True,
    pass_envvar_declarations_to_cmd=False,
    auto_deploy_default_storage_provider=False,
    init_seconds_before_status_checks=0,
)


class Executor(RemoteExecutor):
    def run_job(self, job: JobExecutorInterface) -> None:
        call = ["sbatch", "--parsable", "--job-name", job.name]
        process = subprocess.run(call, capture_output=True, text=True, check=False)
        if process.returncode != 0:
            self.report_job_error(
                SubmittedJobInfo(job),
                msg=f"sbatch failed. The error message was '{process.stderr.strip()}'.\n"
                f"    sbatch call: {' '.join(call)}\n",
            )
            return
        self.report_job_submission(SubmittedJobInfo(job, external_jobid=process.stdout.strip()))

    async def check_active_jobs(
        self, active_jobs: list[SubmittedJobInfo]
    ) -> AsyncGenerator[SubmittedJobInfo, None]:
        for job_info in active_jobs:
            self.report_job_error(
                job_info, msg=f"cluster job '{job_info.external_jobid}' failed: NODE_FAIL. "
            )
        for job_info in ():
            yield job_info

    def cancel_jobs(self, active_jobs: list[SubmittedJobInfo]) -> None:
        pass
