"""xlt: code-switched intermediate-task training for zero-shot cross-lingual transfer.

The library underneath the notebooks: task registry and data loading
(`xlt_lib.tasks`), code-switching (`xlt_lib.codeswitch`), models
(`xlt_lib.model`), the three training phases (`xlt_lib.training`), experiment
configuration and the papermill runner (`xlt_lib.experiment`), significance
testing (`xlt_lib.stats`) and reports (`xlt_lib.report`).
"""

__version__ = "0.1.0"
