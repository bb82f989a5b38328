"""Example protocol variants, shipped with assocsim: each is a cloud factory for
``assocsim run SCENARIO --cloud scenarios.variants.MODULE:make_cloud`` and for the pytest
plugin's ``assocsim_run(..., cloud=...)``, written against the public hooks of
:class:`protocol.CloudMachine` only (``docs/variants.md`` walks through writing one).

* :mod:`scenarios.variants.early_push`: pushes at half the period (step 602's hook
  ``push_deadline``). Broken on purpose: ``assocsim check`` reports ``timeout-push``.
* :mod:`scenarios.variants.no_dual_send`: answers a mismatched requester but never sends the
  POS-named phone its half (unit 8022's hook ``dual_send``). Broken on purpose: under
  ``mismatch_policy = "dual-send"`` the check reports ``mismatch-dual-send``.
* :mod:`scenarios.variants.no_profile`: a stricter privacy policy: the cloud learns no
  shopper's habits and saves no matching relation (steps 507/604, hooks ``learn`` and
  ``associated_products``). Honest: it keeps every promise the check judges.

Each module imports only :mod:`protocol`'s public names, as a variant of your own would.
"""

__all__: list[str] = []
