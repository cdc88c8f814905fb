"""Notebook 07's reference figures from a trained model's weights: what a trained convnet learned.

    python benchmarks/reference_figures_07.py MODEL [--data-dir build/ref-synthetic-data] [--assets assets]
    python benchmarks/reference_figures_07.py MODEL --lang ko   # the Korean edition's: assets/ko/ (same pictures)

MODEL is notebook 06's trained dropout + augmentation model as the notebook saves it
(models/cats_and_dogs_small_2.keras), or its layer weights saved with np.savez(path, *model.get_weights()) (as
benchmarks/reference_runs.py saves them). The script
prepares the full profile's synthetic split in a scratch data folder (drawn from config.SEED, so the
same pictures as a learner's `make data`; a few minutes the first time, nothing to do after), loads
the weights into helpers.models.build_dropout_model(), prints its validation and test accuracy on
that split, and draws, with the same helpers and arguments as notebook 07 in the full profile:

    assets/07_activations.png      every channel of every layer for the first test image (section 1)
    assets/07_filter_patterns.png  16 channels of each Conv2D, 40 gradient-ascent steps (section 2)
    assets/07_grad_cam.png         Grad-CAM of the first two test cats and dogs the model gets right (section 3)

With --lang ko the same figures carry Korean words (helpers' texts under COURSE_LANG=ko, the Grad-CAM row
titles from ROW_TITLES) and go to assets/ko/. Each notebook figure is rendered at --dpi, the figures of one
section are stacked into one image, reduced to a palette of --colours and written as PNG through a temporary
file. Re-running overwrites the three files.
Only synthetic pictures may go into assets/: the script refuses a split prepared from real photos.
"""
import argparse
import io
import os
import sys
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


# The Grad-CAM row titles, as notebook 07's cell writes them in English; the script is their only home.
ROW_TITLES = {
    "en": "{label}: P(dog)={prob:.2f}, says {says}",
    "ko": "{label}: P(dog)={prob:.2f}, 예측 {says}",
}
CLASS_NAMES = {"en": {"cat": "cat", "dog": "dog"}, "ko": {"cat": "고양이", "dog": "강아지"}}


def row_title(label, prob, lang="en"):
    """A Grad-CAM row's title: the true class, P(dog) and the model's answer, in the edition's language."""
    names = CLASS_NAMES[lang]
    return ROW_TITLES[lang].format(label=names[label], prob=prob, says=names["dog" if prob >= 0.5 else "cat"])


def stack_figures(figures, dpi, gap=12):
    """Matplotlib figures rendered at dpi and stacked top to bottom on white, as one RGB Pillow image."""
    import matplotlib.pyplot as plt
    from PIL import Image

    pictures = []
    for fig in figures:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
        plt.close(fig)
        buffer.seek(0)
        pictures.append(Image.open(buffer).convert("RGB"))
    width = max(p.width for p in pictures)
    height = sum(p.height for p in pictures) + gap * (len(pictures) - 1)
    canvas = Image.new("RGB", (width, height), "white")
    top = 0
    for picture in pictures:
        canvas.paste(picture, ((width - picture.width) // 2, top))
        top += picture.height + gap
    return canvas


def save_png(image, path, colours=256):
    """Save a Pillow image as an optimised PNG (palette of `colours`, 0: full RGB) through a temporary file.

    Returns the file's size in bytes. A 256-colour palette keeps the figures at a third of their RGB size.
    """
    from PIL import Image

    from helpers.files import replacing

    path = Path(path)
    if colours:
        image = image.quantize(colors=colours, method=Image.Quantize.MEDIANCUT)
    with replacing(path) as tmp:
        image.save(tmp, format="PNG", optimize=True)
    return path.stat().st_size


def saved_weights(path):
    """The weight arrays of a saved Keras model (.keras, as notebook 06 saves it) or an np.savez file of them."""
    path = Path(path)
    try:
        if path.suffix == ".keras":
            import keras

            return keras.models.load_model(path, compile=False).get_weights()
        with np.load(path) as saved:
            return [saved[f"arr_{i}"] for i in range(len(saved.files))]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as err:
        raise SystemExit(f"{path}: not a saved model nor an np.savez file of weights ({type(err).__name__}); "
                         "pass notebook 06's models/cats_and_dogs_small_2.keras or the .npz of its weights.") from None


def load_weights(model, path):
    """Set a model's weights from a saved model or np.savez file; one clear line if they do not fit."""
    weights = saved_weights(path)
    expected = [tuple(w.shape) for w in model.get_weights()]
    found = [tuple(w.shape) for w in weights]
    if found != expected:
        raise SystemExit(f"{path}: {len(found)} arrays that do not fit the dropout model's {len(expected)} "
                         "weights; pass the weights of notebook 06's model (listing 5.13).")
    model.set_weights(weights)


def activation_figure(model, image_path, dpi):
    """Section 1: the activation grids of one test image (notebook 07, listing 5.30's cell)."""
    from helpers import inspect_model as im
    from helpers import plots, predictions

    x = predictions.load_image(image_path, model)
    acts = im.activations(model, x)
    return stack_figures(plots.plot_activation_grids(acts, cols=16), dpi)


def pattern_figure(model, dpi, steps=40, n_channels=16):
    """Section 2: filter patterns of every Conv2D, the full profile's settings in notebook 07."""
    from helpers import inspect_model as im
    from helpers import plots

    figures = []
    for layer in im.feature_layers(model, kinds=("Conv2D",)):
        channels = list(range(n_channels))
        patterns = im.filter_patterns(model, layer.name, channels, steps=steps)
        figures.append(plots.plot_pattern_grid(patterns, channels, layer.name, cols=8))
    return stack_figures(figures, dpi)


def grad_cam_figure(model, test_paths, test_labels, dpi, lang="en"):
    """Section 3: Grad-CAM of the first two test cats and the first two test dogs (notebook 07's cell)."""
    from helpers import inspect_model as im
    from helpers import plots, predictions

    cam_paths = predictions.pick_examples(model, test_paths, test_labels)
    images, heatmaps, overlays, titles = [], [], [], []
    for p in cam_paths:
        xi = predictions.load_image(p, model)
        prob = float(model.predict(xi[None], verbose=0)[0, 0])
        heat = im.grad_cam(model, xi, target="predicted")
        shown = predictions.to_display(xi, model)
        images.append(shown)
        heatmaps.append(heat)
        overlays.append(im.superimpose(shown, heat))
        titles.append(row_title(p.parent.name[:-1], prob, lang))
    return stack_figures([plots.plot_grad_cams(images, heatmaps, overlays, titles)], dpi)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("weights", help="notebook 06's saved model (.keras) or an np.savez file of its get_weights()")
    parser.add_argument("--data-dir", default=str(REPO / "build" / "ref-synthetic-data"),
                        help="scratch data folder for the full profile's synthetic split")
    parser.add_argument("--assets", help="where the PNG files go (default: assets/, or assets/ko/ with --lang ko)")
    parser.add_argument("--lang", choices=("en", "ko"), default="en", help="the edition whose words the figures carry")
    parser.add_argument("--dpi", type=int, default=90, help="resolution of the rendered figures")
    parser.add_argument("--colours", type=int, default=256, help="palette size of the PNG files (0: full RGB)")
    args = parser.parse_args(argv)
    if not Path(args.weights).is_file():
        raise SystemExit(f"{args.weights}: no such file; pass notebook 06's saved model or the .npz of its weights.")

    os.environ["COURSE_PROFILE"] = "full"
    os.environ["COURSE_DATA_DIR"] = os.path.abspath(args.data_dir)
    os.environ["COURSE_LANG"] = args.lang
    from helpers import config, data, models, plots, predictions, training

    print(f"Preparing the full profile's synthetic split in {config.data_dir()} ...", flush=True)
    data.prepare(data.SYNTHETIC, profile="full")
    if data.current_source() != data.SYNTHETIC:
        raise SystemExit(f"{config.data_dir()} holds a split of {data.current_source()!r} pictures: "
                         "only synthetic pictures may go into assets/; pass another --data-dir.")
    config.set_seed()
    plots.set_style()

    model = models.compile_model(models.build_dropout_model())
    load_weights(model, args.weights)
    scores = {split: training.evaluate(model, split) for split in ("validation", "test")}
    for split, score in scores.items():
        print(f"{split} accuracy of the loaded model: {score['accuracy']:.3f} "
              f"({score['images']} synthetic images, full profile)")

    test_paths, test_labels = predictions.split_images("test")
    assets = Path(args.assets or REPO / "assets" / ("ko" if args.lang == "ko" else ""))
    figures = {
        "07_activations.png": lambda: activation_figure(model, test_paths[0], args.dpi),
        "07_filter_patterns.png": lambda: pattern_figure(model, args.dpi),
        "07_grad_cam.png": lambda: grad_cam_figure(model, test_paths, test_labels, args.dpi, args.lang),
    }
    for name, draw in figures.items():
        picture = draw()
        size = save_png(picture, assets / name, args.colours)
        print(f"wrote {name}: {picture.width}x{picture.height} pixels, {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
