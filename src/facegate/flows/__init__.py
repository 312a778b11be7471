"""The Gate's acts, one module per concern. Each takes the shared :class:`~facegate.core.Core`."""
