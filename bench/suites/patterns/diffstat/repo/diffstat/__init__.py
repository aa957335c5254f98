from diffstat.parse import split_files
from diffstat.render import render
from diffstat.stat import Stat, stat

__all__ = ["split_files", "stat", "Stat", "render"]
