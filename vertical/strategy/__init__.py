"""The strategy layer: planner and its rules, build orchestration and steps, evaluation.

Sits on top of every package; imports them lazily."""
