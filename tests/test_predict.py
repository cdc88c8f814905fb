"""Using a saved model on image files: probabilities, batches with bad files, clear model errors."""
import argparse
import io
import os
import warnings

import keras
import numpy as np
import pytest
from keras import layers
from PIL import Image

from helpers import predictions, saved_runs
from helpers.__main__ import add_predict_parser
from helpers.config import IMAGE_SIZE


def tiny_model(shape=IMAGE_SIZE + (3,), seed=0):
    """A small untrained sigmoid convnet taking `shape` inputs."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=shape), layers.Conv2D(2, 3, strides=4, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(1, activation="sigmoid")])


def photos(folder, n=3, seed=0):
    """n random JPEGs of different sizes; return their paths."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        pixels = rng.integers(0, 256, (80 + 30 * i, 120 + 10 * i, 3), dtype=np.uint8)
        path = folder / f"photo{i}.jpg"
        Image.fromarray(pixels).save(path)
        paths.append(path)
    return paths


def saved(model, path):
    """Save model to path; return path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    model.save(path)
    return path


def test_probabilities_match_model_predict_on_the_same_input(tmp_path):
    model = tiny_model()
    paths = photos(tmp_path / "in")
    results = predictions.predict_files(paths, model_path=saved(model, tmp_path / "m.keras"), batch_size=2)
    # independent truth: Keras' own loader at the training size, rescaled like the generators
    batch = np.stack([keras.utils.img_to_array(keras.utils.load_img(p, target_size=IMAGE_SIZE))
                      for p in paths]) / 255.0
    truth = model.predict(batch, verbose=0).ravel()
    for result, p in zip(results, truth):
        assert result.error is None
        assert result.dog_probability == pytest.approx(float(p), abs=1e-6)
        assert result.label == ("dog" if p >= 0.5 else "cat")
        assert result.probability == pytest.approx(p if p >= 0.5 else 1 - p, abs=1e-6)


def test_bad_files_get_an_error_and_the_rest_an_answer(tmp_path):
    model = tiny_model()
    good = photos(tmp_path / "in", n=2)
    text = tmp_path / "in" / "notes.jpg"
    text.write_text("hello")
    truncated = tmp_path / "in" / "cut.jpg"
    truncated.write_bytes(good[0].read_bytes()[:50])
    missing = tmp_path / "in" / "nope.png"
    files = [good[0], text, missing, truncated, good[1]]
    results = predictions.predict_files(files, model=model)
    assert [r.path for r in results] == [str(f) for f in files]
    assert results[1].error.startswith("not a readable image")
    assert results[2].error.startswith("no such file")
    assert results[3].error.startswith("not a readable image")
    for r in results[1:4]:  # each line names its file once
        assert r.line().startswith(f"{r.path}: error: ") and r.line().count(r.path) == 1
    alone = predictions.predict_files([good[0], good[1]], model=model)
    for r, expected in zip((results[0], results[4]), alone):
        assert r.error is None and r.dog_probability == pytest.approx(expected.dog_probability)


def test_missing_model_names_the_notebook_and_the_flag(tmp_path):
    with pytest.raises(predictions.ModelError, match=r"No trained model at .*nothing.keras.*notebook 06.*--model"):
        predictions.load_classifier(tmp_path / "nothing.keras")
    # default path: the models folder is empty in tests
    with pytest.raises(predictions.ModelError, match=r"cats_and_dogs_small_2\.keras"):
        predictions.load_classifier()


def test_default_model_prefers_dropout_run_then_baseline():
    baseline = saved(tiny_model(seed=1), saved_runs.model_path(1))
    assert predictions.default_model_path() == baseline
    dropout = saved(tiny_model(seed=2), saved_runs.model_path(2))
    assert predictions.default_model_path() == dropout


def test_not_a_model_file(tmp_path):
    junk = tmp_path / "junk.keras"
    junk.write_text("no model here")
    with pytest.raises(predictions.ModelError, match=r"Could not load .*junk.keras: the model file is not a complete"):
        predictions.load_classifier(junk)


@pytest.mark.parametrize("model, what", [
    (keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(1, activation="sigmoid")]),
     r"input shape is \(28, 28, 1\)"),
    (keras.Sequential([keras.Input(shape=(10,)), layers.Dense(1, activation="sigmoid")]), r"input shape is \(10,\)"),
    (keras.Sequential([keras.Input(shape=(32, 32, 3)), layers.Flatten(), layers.Dense(10, activation="softmax")]),
     r"output shape is \(10,\)"),
])
def test_wrong_model_shape_is_a_clear_error(tmp_path, model, what):
    path = saved(model, tmp_path / "other.keras")
    with pytest.raises(predictions.ModelError, match=what):
        predictions.load_classifier(path)


def test_other_input_size_is_resized_to_the_model(tmp_path):
    model = tiny_model(shape=(64, 64, 3))
    path = photos(tmp_path / "in", n=1)[0]
    result = predictions.predict_files([path], model=model)[0]
    x = keras.utils.img_to_array(keras.utils.load_img(path, target_size=(64, 64)))[None] / 255.0
    assert result.dog_probability == pytest.approx(float(model.predict(x, verbose=0)[0, 0]), abs=1e-6)


def test_rescaling_model_gets_raw_pixels(tmp_path):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input(shape=(32, 32, 3)), layers.Rescaling(1 / 255), layers.Flatten(),
                              layers.Dense(1, activation="sigmoid")])
    path = photos(tmp_path / "in", n=1)[0]
    result = predictions.predict_files([path], model=model)[0]
    x = predictions.load_image(path, model)
    assert x.max() > 1.0  # 0-255 pixels go in, the model rescales
    assert result.dog_probability == pytest.approx(float(model.predict(x[None], verbose=0)[0, 0]), abs=1e-6)


def run_cli(argv):
    """Parse and run `predict ...` through the subcommand the CLI registers."""
    parser = argparse.ArgumentParser()
    add_predict_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["predict", *map(str, argv)])
    return args.func(args)


def test_command_prints_one_line_per_file_and_exit_codes(tmp_path, capsys):
    model_file = saved(tiny_model(), tmp_path / "m.keras")
    good = photos(tmp_path / "in", n=2)
    bad = tmp_path / "in" / "readme.txt"
    bad.write_text("text")
    assert run_cli([*good, "--model", model_file]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(" (probability " in line for line in out)
    assert out[0].startswith(f"{good[0]}: ") and out[0].split(": ")[1].split()[0] in ("cat", "dog")
    assert run_cli([good[0], bad, "--model", model_file]) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith(f"{good[0]}: ")
    assert captured.err.startswith(f"{bad}: error: not a readable image") and captured.err.count("\n") == 1
    assert run_cli([good[0], "--model", tmp_path / "absent.keras"]) == 2
    assert "No trained model at" in capsys.readouterr().err


def test_python_m_helpers_predict(tmp_path, capsys):
    from helpers.__main__ import main

    model_file = saved(tiny_model(), tmp_path / "m.keras")
    good = photos(tmp_path / "in", n=1)[0]
    assert main(["predict", str(good), "--model", str(model_file)]) == 0
    assert capsys.readouterr().out.startswith(f"{good}: ")
    assert main(["predict", str(good)]) == 2  # no model trained in this test's models folder
    assert "run notebook 06" in capsys.readouterr().err


# ---------------------------------------------------------------- odd files: every error stays per file

def huge_png(path, width=40_000, height=40_000):
    """A small PNG whose header claims width x height pixels (a decompression bomb to Pillow)."""
    import struct
    import zlib

    out = io.BytesIO()
    Image.new("RGB", (4, 4), (10, 20, 30)).save(out, "PNG")
    blob = bytearray(out.getvalue())
    blob[16:24] = struct.pack(">II", width, height)  # IHDR's width and height
    blob[29:33] = struct.pack(">I", zlib.crc32(bytes(blob[12:29])))  # its CRC
    path.write_bytes(bytes(blob))
    return path


def test_a_decompression_bomb_is_one_files_error(tmp_path):
    model = tiny_model()
    good = photos(tmp_path / "in", n=2)
    bomb = huge_png(tmp_path / "in" / "bomb.png")
    results = predictions.predict_files([good[0], bomb, good[1]], model=model)
    assert results[0].error is None and results[2].error is None
    assert results[1].error.startswith("image too large to open safely (1,600,000,000 pixels")


def test_a_directory_says_it_is_one(tmp_path, capsys):
    model_file = saved(tiny_model(), tmp_path / "m.keras")
    good = photos(tmp_path / "in", n=1)[0]
    assert run_cli([tmp_path / "in", good, "--model", model_file]) == 1
    captured = capsys.readouterr()
    assert captured.err == (f"{tmp_path / 'in'}: error: is a directory, not an image file; pass the image "
                            f"files in it (e.g. {tmp_path / 'in'}/*.jpg).\n")
    assert captured.out.startswith(f"{good}: ") and captured.out.count("\n") == 1


def rgb_reference(size=(40, 30), seed=5):
    """Random 8-bit RGB pixels (h, w, 3)."""
    return np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)


def in_mode(mode, path):
    """Write an image in a Pillow mode; return (path, the 8-bit RGB pixels it stands for, computed by hand)."""
    rgb = rgb_reference()
    grey = rgb[..., 0]
    if mode == "I;16":  # 16-bit greyscale PNG: v * 257 is v on the 8-bit scale
        Image.fromarray(grey.astype(np.uint16) * 257).save(path)
        return path, np.repeat(grey[..., None], 3, axis=2)
    if mode == "L":
        Image.fromarray(grey, "L").save(path)
        return path, np.repeat(grey[..., None], 3, axis=2)
    if mode == "P":
        palette = rgb_reference((16, 16), seed=6).reshape(-1, 3)
        index = rgb[..., 1]
        img = Image.fromarray(index.astype(np.uint8), "P")
        img.putpalette(palette.ravel().tolist())
        img.save(path)
        return path, palette[index]
    if mode == "CMYK":  # lossless TIFF; Pillow's RGB -> CMYK -> RGB is exact with no black
        Image.fromarray(rgb).convert("CMYK").save(path)
        return path, rgb
    if mode == "RGBA":  # transparent pixels become white, opaque ones keep their colour
        alpha = np.where(rgb[..., 2] > 127, 255, 0).astype(np.uint8)
        Image.fromarray(np.dstack([rgb, alpha]), "RGBA").save(path)
        return path, np.where(alpha[..., None] == 255, rgb, 255).astype(np.uint8)
    raise ValueError(mode)


@pytest.mark.parametrize("mode, suffix", [("I;16", ".png"), ("L", ".png"), ("P", ".png"), ("CMYK", ".tif"),
                                          ("RGBA", ".png")])
def test_every_mode_is_read_as_8bit_rgb(tmp_path, mode, suffix):
    path, truth = in_mode(mode, tmp_path / f"image{suffix}")
    assert Image.open(path).mode == mode
    pixels = predictions.load_image(path, size=truth.shape[:2])  # same size: no resampling
    np.testing.assert_array_equal(np.rint(pixels * 255).astype(np.uint8), truth)
    model = tiny_model()
    result = predictions.predict_files([path], model=model)[0]
    x = keras.utils.img_to_array(Image.fromarray(truth).resize((150, 150), Image.NEAREST))[None] / 255.0
    assert result.dog_probability == pytest.approx(float(model.predict(x, verbose=0)[0, 0]), abs=1e-6)


def test_exif_orientation_is_applied_to_your_photos(tmp_path):
    rgb = rgb_reference((40, 30))
    path = tmp_path / "sideways.png"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90 degrees clockwise to view
    Image.fromarray(rgb).save(path, exif=exif)
    upright = predictions.load_image(path, size=(40, 30), orient=True)
    np.testing.assert_array_equal(np.rint(upright * 255).astype(np.uint8), np.rot90(rgb, k=-1))
    as_stored = predictions.load_image(path, size=(30, 40))  # training photos: read as stored, like Keras
    np.testing.assert_array_equal(np.rint(as_stored * 255).astype(np.uint8), rgb)
    model = tiny_model()
    x = keras.utils.img_to_array(Image.fromarray(np.rot90(rgb, k=-1).copy()).resize((150, 150), Image.NEAREST))
    expected = float(model.predict(x[None] / 255.0, verbose=0)[0, 0])
    assert predictions.predict_files([path], model=model)[0].dog_probability == pytest.approx(expected, abs=1e-6)


# ---------------------------------------------------------------- pixel bombs: refused from the header

def png_chunk(kind, data):
    """One PNG chunk: length, type, data, CRC."""
    import struct
    import zlib

    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def single_colour_png(path, width, height, pixels=True):
    """A greyscale PNG of width x height black pixels, written row by row (a few hundred KB, never in memory);
    pixels=False cuts it short after the start of its pixel data, so decoding it fails at once."""
    import struct
    import zlib

    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    if pixels:
        squeeze, row = zlib.compressobj(1), bytes(width + 1)  # filter byte 0, then black
        data = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
        body = png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")
    else:  # an IDAT chunk announcing a megabyte, holding 2 bytes
        body = struct.pack(">I", 1 << 20) + b"IDAT" + zlib.compress(bytes(width + 1))[:2]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + header + body)
    return path


def jpeg_claiming(path, width, height):
    """A JPEG's headers, its frame header (SOF0) saying width x height, cut short where its pixel data begins."""
    import struct

    out = io.BytesIO()
    Image.new("RGB", (16, 16), (200, 100, 50)).save(out, "JPEG")
    blob = bytearray(out.getvalue())
    sof = blob.index(b"\xff\xc0")
    blob[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    sos = blob.index(b"\xff\xda")
    path.write_bytes(bytes(blob[:sos + 2 + struct.unpack(">H", blob[sos + 2:sos + 4])[0]]))
    return path


def test_pixel_problem_and_check_pixels_say_the_limit():
    from helpers import images

    assert images.MAX_PIXELS == 8192 * 8192
    assert images.pixel_problem((8192, 8192)) is None and images.pixel_problem((100, 100), limit=10_000) is None
    assert images.pixel_problem((15000, 10000)) == (
        "image too large to open safely (15,000 x 10,000 = 150,000,000 pixels; the limit is 67,108,864, "
        "e.g. 8192 x 8192)")
    assert "the limit is 10,000, e.g. 100 x 100" in images.pixel_problem((101, 100), limit=10_000)
    small = Image.new("L", (10, 10))
    assert images.check_pixels(small, "a.png") is small
    with pytest.raises(images.TooManyPixels, match=r"^cat\.7\.jpg: image too large .*use a smaller copy"):
        images.check_pixels(small, "cat.7.jpg", limit=99)
    assert issubclass(images.TooManyPixels, ValueError)


def test_a_large_single_colour_png_is_refused_per_file(tmp_path):
    big = single_colour_png(tmp_path / "in" / "big.png", 15000, 10000)
    assert big.stat().st_size < 1_000_000  # 150 megapixels that compress small
    good = photos(tmp_path / "in", n=1)[0]
    results = predictions.predict_files([big, good], model=tiny_model())
    assert results[0].error == ("image too large to open safely (15,000 x 10,000 = 150,000,000 pixels; the limit "
                                "is 67,108,864, e.g. 8192 x 8192); use a smaller copy of the photo.")
    assert results[1].error is None


@pytest.mark.parametrize("make", [lambda p: single_colour_png(p.with_suffix(".png"), 15000, 10000, pixels=False),
                                  lambda p: jpeg_claiming(p.with_suffix(".jpg"), 15000, 10000)],
                         ids=["png", "jpeg"])
def test_the_refusal_comes_from_the_header_before_decoding(tmp_path, make):
    from helpers import images

    path = make(tmp_path / "claims")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            assert img.size == (15000, 10000)
    # decoding these files fails (no pixel data): the size message proves nothing was decoded
    with pytest.raises(images.TooManyPixels, match=r"image too large to open safely \(15,000 x 10,000"):
        images.open_rgb(path, orient=True)
    small = {".png": lambda p: single_colour_png(p, 300, 200, pixels=False),
             ".jpg": lambda p: jpeg_claiming(p, 300, 200)}[path.suffix](tmp_path / f"small{path.suffix}")
    with pytest.raises(ValueError, match="not a readable image"):  # the same file within the limit is decoded
        images.open_rgb(small)


def test_pillows_own_limit_says_the_courses(tmp_path):
    result = predictions.predict_files([huge_png(tmp_path / "bomb.png")], model=tiny_model())[0]
    assert result.error == ("image too large to open safely (1,600,000,000 pixels; the limit is 67,108,864, "
                            "e.g. 8192 x 8192); use a smaller copy of the photo.")


# ---------------------------------------------------------------- odd files and damaged models: one clear line

@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_fifo_is_not_a_regular_file_and_is_never_opened(tmp_path, capsys):
    from helpers.__main__ import main

    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer for ever
    model_file = saved(tiny_model(), tmp_path / "m.keras")
    good = photos(tmp_path / "in", n=1)[0]
    assert main(["predict", str(fifo), str(good), "--model", str(model_file)]) == 1
    captured = capsys.readouterr()
    assert captured.err == (f"{fifo}: error: is not a regular file (a pipe, socket or device); "
                            "pass an image file.\n")
    assert captured.out.startswith(f"{good}: ")
    assert main(["predict", str(good), "--model", str(fifo)]) == 2
    assert capsys.readouterr().err == (f"predict: The model {fifo} is not a regular file (a pipe, socket or "
                                       "device): pass --model PATH to a saved .keras file.\n")


def test_a_dangling_link_says_so(tmp_path):
    link = tmp_path / "gone.jpg"
    try:
        link.symlink_to(tmp_path / "deleted.jpg")
    except OSError:  # Windows without the right to make links
        pytest.skip("cannot make symbolic links here")
    result = predictions.predict_files([link], model=tiny_model())[0]
    assert result.error == "is a link to a file that does not exist; pass the image file itself."


@pytest.mark.parametrize("keep", [0.5, 0.99, 0.0])
def test_a_cut_short_model_is_damaged_and_names_its_notebook(tmp_path, capsys, keep):
    from helpers.__main__ import main

    whole = saved(tiny_model(), tmp_path / "whole.keras").read_bytes()
    cut = saved_runs.model_path(2)
    cut.parent.mkdir(parents=True)
    cut.write_bytes(whole[:int(len(whole) * keep)])
    good = photos(tmp_path / "in", n=1)[0]
    assert main(["predict", str(good)]) == 2  # the default model: the models folder's _2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and "File not found" not in err
    assert err.startswith(f"predict: Could not load {cut}: the model file ")
    assert ("is empty (0 bytes)" if keep == 0 else "is not a complete .keras archive (") in err
    assert err.endswith("run notebook 06_dropout_and_augmentation.ipynb again to re-make it, or pass --model PATH "
                        "to another saved .keras file.\n")


def test_a_model_with_a_damaged_entry_fails_its_checksum(tmp_path):
    import zipfile

    path = saved(tiny_model(), tmp_path / "cats_and_dogs_small_8.keras")
    with zipfile.ZipFile(path) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
    blob = bytearray(path.read_bytes())
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    blob[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(predictions.ModelError) as caught:
        predictions.load_classifier(path)
    message = str(caught.value)
    assert message.startswith(f"Could not load {path}: the model file is a damaged .keras archive (")
    assert "run notebook 08_modern_keras_pipeline.ipynb again to re-make it" in message


def test_a_nan_float_tiff_gets_its_own_line_and_no_warning(tmp_path):
    pixels = np.random.default_rng(1).random((30, 40)).astype("float32")
    pixels[3, 4], pixels[5, 6] = np.nan, np.inf
    tiff = tmp_path / "in" / "science.tif"
    tiff.parent.mkdir(parents=True)
    Image.fromarray(pixels, "F").save(tiff)
    fine = tmp_path / "in" / "fine.tif"
    Image.fromarray(np.nan_to_num(pixels, posinf=1.0), "F").save(fine)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would fail the test
        results = predictions.predict_files([tiff, fine], model=tiny_model())
    assert results[0].error == ("2 of its 1,200 pixel values are not numbers (NaN or infinite), so it is not a "
                                "picture; save it as an 8-bit JPEG or PNG.")
    assert results[0].line() == f"{tiff}: error: {results[0].error}"
    assert results[1].error is None and 0.0 <= results[1].dog_probability <= 1.0


def test_the_command_in_a_fresh_interpreter_prints_one_line_per_bad_file(tmp_path):
    """`python -m helpers predict` as a learner runs it: no traceback, no warning, one line per bad file
    (the damaged model's line: test_a_cut_short_model_is_damaged_and_names_its_notebook)."""
    import subprocess
    import sys
    from pathlib import Path

    model_file = saved(tiny_model(), tmp_path / "m.keras")
    good = photos(tmp_path / "in", n=1)[0]
    big = single_colour_png(tmp_path / "in" / "big.png", 15000, 10000, pixels=False)
    nan = tmp_path / "in" / "nan.tif"
    Image.fromarray(np.full((8, 8), np.nan, dtype="float32"), "F").save(nan)
    bad = [big, nan]
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "in" / "pipe.png")
        bad.append(tmp_path / "in" / "pipe.png")
    done = subprocess.run([sys.executable, "-m", "helpers", "predict", str(good), *map(str, bad), "--model",
                           str(model_file)], cwd=Path(__file__).resolve().parent.parent, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 1 and done.stdout.startswith(f"{good}: ") and done.stdout.count("\n") == 1
    for noise in ("Traceback", "RuntimeWarning", "DecompressionBombWarning"):
        assert noise not in done.stderr
    ours = [line for line in done.stderr.splitlines() if str(tmp_path) in line]
    assert [line.split(": error: ")[0] for line in ours] == [str(p) for p in bad]
    assert "image too large to open safely (15,000 x 10,000" in ours[0] and "not numbers" in ours[1]


def test_korean_errors_a_notebook_can_show(tmp_path, monkeypatch):
    grey = keras.Sequential([keras.Input(shape=(28, 28, 1)), layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    monkeypatch.setenv("COURSE_LANG", "ko")
    with pytest.raises(predictions.ModelError, match=r"[가-힣].*\(28, 28, 1\)|\(28, 28, 1\).*[가-힣]"):
        predictions.predict_files([], model=grey)  # notebook 07 passes its own model
    with pytest.raises(FileNotFoundError, match=r"[가-힣]"):
        predictions.split_images("test", root=tmp_path)
    monkeypatch.setenv("COURSE_LANG", "en")
    with pytest.raises(FileNotFoundError, match=r"^No images in .*: prepare the data first \(notebook 03 or `make"):
        predictions.split_images("test", root=tmp_path)
