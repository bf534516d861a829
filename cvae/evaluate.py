"""What the write-up measures: the generator's test -ELBO and the classifier's accuracy with z from the prior."""
import torch

from .models import one_hot


@torch.no_grad()
def neg_elbo(model, x, labels, batch_size=1000):
    """Mean -ELBO in nats per image, one z sample per image (the training loss, on `x`)."""
    was_training = model.training
    model.eval()
    total = 0.0
    for i in range(0, len(x), batch_size):
        xb, yb = x[i:i + batch_size], one_hot(labels[i:i + batch_size], x.device)
        total += model.loss.eval({"x": xb, "y": yb}).item() * len(xb)
    model.train(was_training)
    return total / len(x)


@torch.no_grad()
def accuracy(model, x, labels, batch_size=1000, generator=None):
    """Model 2's accuracy: argmax_y p(y|x,z) with one z drawn from the prior per image."""
    was_training = model.training
    model.eval()
    correct = 0
    for i in range(0, len(x), batch_size):
        probs = model.predict_probs(x[i:i + batch_size], generator=generator)
        correct += (probs.argmax(-1) == labels[i:i + batch_size]).sum().item()
    model.train(was_training)
    return correct / len(x)


@torch.no_grad()
def generation_accuracy(generator_model, judge, per_digit=100, seed=0):
    """Share of samples x ~ p(x|z,y), z ~ N(0, I), that an independent classifier reads as the digit y."""
    g = torch.Generator().manual_seed(seed)
    digits = torch.arange(10).repeat_interleave(per_digit)
    z = torch.randn(len(digits), generator_model.z_dim, generator=g)
    generator_model.eval()
    images = generator_model.draw(z, digits)
    read = judge.predict(images).cpu()
    per = {d: (read[digits == d] == d).float().mean().item() for d in range(10)}
    return (read == digits).float().mean().item(), per


def drawn_inputs(items):
    """DrawnDigits as model 2 gets them: (x, the images through `to_mnist_image`, (N, 28, 28); their digits)."""
    from .preprocess import to_mnist_image
    return torch.stack([to_mnist_image(d.image) for d in items]), torch.tensor([d.digit for d in items])


def reads(classifier, x, labels, seed=0):
    """Whether model 2 reads each image of x as its label, z from the prior drawn with `seed`: a bool tensor."""
    g = torch.Generator(device=classifier.device).manual_seed(seed)
    return classifier.predict_probs(x, generator=g).argmax(-1).cpu() == labels.cpu()


def _reads_drawn(classifier, items, seed):
    return reads(classifier, *drawn_inputs(items), seed)


def drawn_accuracy(classifier, per_digit=30, seed=0):
    """Accuracy on drawn digits that are not MNIST (cvae.drawn_digits), through `to_mnist_image`."""
    from .drawn_digits import make_drawn_digits
    return _reads_drawn(classifier, make_drawn_digits(per_digit=per_digit, seed=seed), seed).float().mean().item()


def drawn_accuracy_by_style(classifier, per_style=30, seed=0, styles=None):
    """Accuracy on each common way of writing a digit, {"1/flag": 0.97, ...}: `per_style` drawings of each style
    (default: cvae.drawn_digits.STYLES; any "digit/variant" of its TEMPLATES can be asked for)."""
    from .drawn_digits import STYLES, make_style_digits
    styles = list(STYLES if styles is None else styles)
    correct = _reads_drawn(classifier, make_style_digits(per_style=per_style, seed=seed, styles=styles), seed)
    by_style = correct.view(per_style, len(styles)).float().mean(0)  # the styles take turns in the set
    return {style: acc.item() for style, acc in zip(styles, by_style)}


def second_opinion_figures(generator, x, labels, held_out_from=None, drawn_per_digit=30, non_digits_per_kind=60,
                           seed=0):
    """Model 1 as a classifier (argmin over y of its -ELBO bound) and as a judge of "a digit or not", with the
    threshold stored in its metadata (cvae.second_opinion): its accuracy and false alarms on the MNIST test images
    x[held_out_from:] (default: those after the ones the threshold was calibrated on), its false alarms on the drawn
    digits (cvae.drawn_digits, every style, through `to_mnist_image`), and the share of cvae.non_digits flagged, per
    kind, with what slips through. Without a stored threshold, the accuracies only."""
    from collections import Counter

    from . import second_opinion as so
    from .drawn_digits import make_drawn_digits, make_style_digits
    from .non_digits import make_non_digits
    from .preprocess import to_mnist_image
    calibration = so.calibration_of(generator)
    options = {"samples": calibration["samples"], "kind": calibration["bound"]} if calibration else {}
    if held_out_from is None:
        held_out_from = calibration["images"] if calibration and calibration["images"] < len(x) else 0
    scores = so.neg_elbo_many(generator, x[held_out_from:], seed=seed, **options)
    truth = labels[held_out_from:].cpu()
    drawn, drawn_labels = drawn_inputs(make_drawn_digits(drawn_per_digit, seed) + make_style_digits(drawn_per_digit,
                                                                                                    seed))
    drawn_scores = so.neg_elbo_many(generator, drawn, seed=seed, **options)
    out = {"model1_classifier_test_accuracy": (scores.argmin(1) == truth).float().mean().item(),
           "model1_classifier_drawn_accuracy": (drawn_scores.argmin(1) == drawn_labels).float().mean().item(),
           "model1_test_images": len(truth), "model1_drawn_images": len(drawn), "model1_calibration": calibration}
    if calibration is None:
        return out
    threshold = calibration["threshold"]
    out["false_alarm_rate_test"] = (scores.min(1).values > threshold).float().mean().item()
    out["false_alarm_rate_drawn"] = (drawn_scores.min(1).values > threshold).float().mean().item()
    items = make_non_digits(non_digits_per_kind, seed)
    pictures = [(item, to_mnist_image(item.image)) for item in items]
    pictures = [(item, x28) for item, x28 in pictures if x28 is not None]
    flagged = so.neg_elbo_many(generator, torch.stack([x28 for _, x28 in pictures]), seed=seed,
                               **options).min(1).values > threshold
    kinds = sorted({item.kind for item, _ in pictures})
    out["non_digit_flag_rate"] = flagged.float().mean().item()
    out["non_digit_flag_rate_by_kind"] = {
        kind: flagged[[i for i, (item, _) in enumerate(pictures) if item.kind == kind]].float().mean().item()
        for kind in kinds}
    slipped = Counter(f"{item.kind}/{item.name}" for (item, _), f in zip(pictures, flagged.tolist()) if not f)
    out["non_digits_not_flagged"] = dict(sorted(slipped.items(), key=lambda kv: (-kv[1], kv[0])))
    out["non_digit_images"] = len(pictures)
    return out
