"""Everything that imports streamlit: pages, widgets, URL state and cached engine calls."""

from lrviz.engine.runtime import enable_compilation_cache

enable_compilation_cache()
