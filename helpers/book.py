"""The book's published figures (1st edition, section 5.2, real photos): the one place they are written.

The course compares its own runs with these; it never computes them.
"""
# Listing 5.5's convnet (and listing 5.13's, which adds Dropout and no weights): its parameter count.
PARAMETERS = 3_453_121

# The schedule of section 5.2's two fits: steps per epoch and epochs, by the notebook that follows each.
STEPS_PER_EPOCH = {"04": 100, "06": 100}
EPOCHS = {"04": 30, "06": 100}

# The validation accuracy the book's curves of those fits reach (low, high).
CURVE_VAL_ACCURACY = {"04": (0.70, 0.72), "06": (0.82, 0.82)}

# The validation accuracy the book's text gives for each fit (section 5.2.4: 71%; section 5.2.5: 82%).
TEXT_VAL_ACCURACY = {"04": 0.71, "06": 0.82}

# The book's own notebook (section 5.2), not its text: the last epoch's validation accuracy of each fit.
FINAL_VAL_ACCURACY = {"04": 0.724, "06": 0.844}


def curve_text(notebook):
    """The book's figure for a notebook's fit as text, e.g. 'val. accuracy about 0.70-0.72 after 30 epochs'."""
    if notebook not in CURVE_VAL_ACCURACY:
        return ""
    low, high = CURVE_VAL_ACCURACY[notebook]
    span = f"{low:.2f}" if low == high else f"{low:.2f}-{high:.2f}"
    return f"val. accuracy about {span} after {EPOCHS[notebook]} epochs"


# Section 5.1 (MNIST): listings 5.1-5.3's convnet against chapter 2's densely connected network (section 2.1).
MNIST_PARAMETERS = {"convnet": 93_322, "dense": 407_050}
MNIST_TEST_ACCURACY = {"convnet": 0.993, "dense": 0.978}  # the text of section 5.1: 99.3% and 97.8%
MNIST_PRINTED_TEST_ACC = 0.9908  # the test_acc the book prints after listing 5.3
MNIST_ERROR_REDUCTION = 0.68  # "we decreased the error rate by 68% (relative)"
