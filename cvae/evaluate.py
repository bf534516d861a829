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
