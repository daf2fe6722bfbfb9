"""The oracle: scratch driven through PyTorch's own test databases, as the measure of its breadth.

``torch.testing._internal`` lists, for each ``torch.nn`` module and ``torch.optim`` optimizer, the sample
inputs torch tests itself on. Every one that torch runs on the CPU, for every class scratch has, is a case
here, run in both engines and compared by the tolerance policy (``torch_ref/tolerance.py``):

- ``module_cases.py`` / ``modules.py``: ``common_modules.module_db``'s ModuleInputs, float64 and float32,
  training and eval; ``gradient_scale.py``: the gradients judged against the terms they cancel;
- ``errors.py``: its error inputs: where torch raises, scratch raises an error of the same kind;
- ``optimizer_cases.py`` / ``optimizers.py`` / ``trajectory.py``: ``common_optimizers.optim_db``'s
  OptimizerInputs and scheduler inputs, 20 steps side by side;
- ``skips.py``: where torch itself does not run a case (its own CPU skips, or it raises on the input),
  the only reason a case is skipped; ``gaps.py``: the cases scratch cannot take yet, each with the missing
  feature it needs (the tests mark them strict xfail);
- ``torchdb.py``: the import of torch's test internals, undoing what it does to the process;
  ``arguments.py``: torch's sample arguments as scratch takes them.

The tests are ``parity_tests/test_oracle_modules.py`` and ``parity_tests/test_oracle_optimizers.py``. It needs
the ``expecttest`` package (extras ``[oracle]`` and ``[test]``).
"""
