"""Plotting: one place for every figure the notebooks draw."""
import matplotlib.pyplot as plt


def set_style():
    """The course's plot style: readable defaults for notebooks."""
    plt.rcParams.update({
        "figure.figsize": (6, 4),
        "figure.dpi": 100,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "image.cmap": "gray",
    })
