"""The shipped prompt and message files (YAML), installed with the package so that a wheel install
answers as a checkout does. A deployment's own folder (`answering.prompts_dir`) overrides them
file by file."""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
