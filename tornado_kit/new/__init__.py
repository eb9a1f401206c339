"""What only `tkit new` uses: project names (names.py), the skeleton and its rendering (skeleton.py),
the first git commit (vcs.py), and the whole job (project.py: `new_project`).

Writing goes through the shared plan/apply pair (tornado_kit/plan.py, tornado_kit/writer.py).
"""

from __future__ import annotations

from tornado_kit.new.project import NewProject, new_project, project_context

__all__ = ["NewProject", "new_project", "project_context"]
