"""What the Displays share: the lazy matplotlib import and the axes to draw on."""

__all__ = ["axes"]


def axes(ax, name):
    """``ax``, or a new figure's axes; matplotlib is imported here, on first use."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(f"{name} needs matplotlib: pip install 'skmed2vec[plot]'.") from None
    if ax is None:
        _, ax = plt.subplots()
    return ax
