# Voila configuration of `dplm-explore app` (found through JUPYTER_CONFIG_PATH): the kernel cap.
from dplm_explore.app.serve import prelaunch_hook

c.VoilaConfiguration.prelaunch_hook = prelaunch_hook  # noqa: F821 (c is Voila's config object)
