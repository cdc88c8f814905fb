"""The interactive explorers (ipywidgets 8): each is a VBox you can also drive from Python.

Every explorer renders its pictures once per change (helpers.widgets.render) and keeps what it shows in
`.state`, so tests and notebooks can set a control's `.value` and read what is on screen. One module per
explorer: `conv` (5.1.1), `pool` (5.1.2), `augment` (5.2.5), `activations` (5.4.1).
"""
from ..images import colormap_lut
from .activations import ActivationExplorer, activation_explorer, images_per_class, side_by_side
from .augment import (
                      AUG_BOOK,
                      AUG_DEFAULTS,
                      AugmentationExplorer,
                      augment_image,
                      augmentation_call,
                      augmentation_explorer,
                      augmentation_kwargs,
                      grid_png,
                      load_explorer_image,
                      training_images,
)
from .conv import (
                      CUSTOM,
                      KERNELS,
                      PATTERNS,
                      STRIDES,
                      ConvExplorer,
                      conv_explorer,
                      explorer_images,
                      pattern,
                      sample_images,
                      size_formula,
)
from .pool import POOL_SIZES, POOL_STRIDES, PoolExplorer, default_feature_map, pool_explorer, window_coverage
from .render import DIVERGING, HIGHLIGHT, OUTPUT_BOX, PAD_COLOR, SCALE, feature_scale, set_image, tile_grid, to_png

__all__ = [
                      "AUG_BOOK",
                      "AUG_DEFAULTS",
                      "CUSTOM",
                      "DIVERGING",
                      "HIGHLIGHT",
                      "KERNELS",
                      "OUTPUT_BOX",
                      "PAD_COLOR",
                      "PATTERNS",
                      "POOL_SIZES",
                      "POOL_STRIDES",
                      "SCALE",
                      "STRIDES",
                      "ActivationExplorer",
                      "AugmentationExplorer",
                      "ConvExplorer",
                      "PoolExplorer",
                      "activation_explorer",
                      "augment_image",
                      "augmentation_call",
                      "augmentation_explorer",
                      "augmentation_kwargs",
                      "colormap_lut",
                      "conv_explorer",
                      "default_feature_map",
                      "explorer_images",
                      "feature_scale",
                      "grid_png",
                      "images_per_class",
                      "load_explorer_image",
                      "pattern",
                      "pool_explorer",
                      "sample_images",
                      "set_image",
                      "side_by_side",
                      "size_formula",
                      "tile_grid",
                      "to_png",
                      "training_images",
                      "window_coverage",
]
