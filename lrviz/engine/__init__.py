"""Pure numerics of lrviz: JAX + optax. Never imports streamlit or plotly."""
