"""An independent CNN digit classifier, plain PyTorch and cross-entropy, trained on MNIST.

It is not part of the demo: it only judges whether model 1 draws the digit it was asked for
(`evaluate.generation_accuracy`), so it shares no code or weights with the models it judges.
"""
import torch
from torch import nn
from torch.nn import functional as F

from .data import augment, batches


class Judge(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 49, 256), nn.ReLU(), nn.Dropout(0.3), nn.Linear(256, 10))

    @property
    def config(self):
        return {"kind": "judge"}

    def forward(self, x):
        return self.net(x.reshape(-1, 1, 28, 28))

    @torch.no_grad()
    def predict(self, x, batch_size=1000):
        self.eval()
        dev = next(self.parameters()).device
        return torch.cat([self(x[i:i + batch_size].to(dev)).argmax(-1) for i in range(0, len(x), batch_size)])


def train_judge(data, epochs=8, batch_size=128, lr=1e-3, seed=0):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    judge = Judge().to(data.x_train.device)
    opt = torch.optim.Adam(judge.parameters(), lr=lr)
    steps = -(-len(data.x_train) // batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * steps)
    history = []
    for epoch in range(1, epochs + 1):
        judge.train()
        for idx in batches(len(data.x_train), batch_size, generator=g, device=data.x_train.device):
            loss = F.cross_entropy(judge(augment(data.x_train[idx], g)), data.y_train[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
        acc = (judge.predict(data.x_test) == data.y_test).float().mean().item()
        history.append({"epoch": epoch, "test_accuracy": acc})
        print(f"judge epoch {epoch}: test accuracy {acc:.4f}", flush=True)
    return judge, history
