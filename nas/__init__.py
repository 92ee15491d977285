"""nas: neural architecture search for JAX/Flax."""
