"""The network page: real small networks trained with the same optimizers."""
