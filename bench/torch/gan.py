"""PyTorch twin of bench/gan_bench.cpp: one conditional DCGAN training step (D update, then G
update with the non-saturating loss and D's parameters frozen), batch 64, 28x28, latent 64,
base width 32, as nabla's train::GanTrainer does it."""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import run

BATCH, LATENT, WIDTH, CLASSES = 64, 64, 32, 10


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(CLASSES, CLASSES)
        w = WIDTH
        self.net = nn.Sequential(
            nn.ConvTranspose2d(LATENT + CLASSES, 2 * w, 7, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(),
            nn.ConvTranspose2d(2 * w, w, 4, 2, 1, bias=False), nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z, y):
        h = torch.cat([z, self.embed(y)], 1)
        return self.net(h.view(h.size(0), -1, 1, 1))


class Discriminator(nn.Module):
    def __init__(self):
        super().__init__()
        w = WIDTH
        self.net = nn.Sequential(
            nn.Conv2d(1 + CLASSES, w, 4, 2, 1, bias=False), nn.LeakyReLU(0.2),
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * w, 1, 7, bias=False), nn.Flatten(0))

    def forward(self, x, y):
        code = F.one_hot(y, CLASSES).to(x.dtype).view(-1, CLASSES, 1, 1).expand(-1, CLASSES, 28, 28)
        return self.net(torch.cat([x, code], 1))


def dcgan_init(m):
    if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(m.weight, 0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1, 0.02)
        nn.init.zeros_(m.bias)


torch.manual_seed(0)
G, D = Generator(), Discriminator()
G.apply(dcgan_init)
D.apply(dcgan_init)
g_opt = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
d_opt = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
x = torch.rand(BATCH, 1, 28, 28) * 2 - 1
y = torch.randint(0, CLASSES, (BATCH,))
bce = F.binary_cross_entropy_with_logits


def gan_step():
    z = torch.randn(BATCH, LATENT)
    fake = G(z, y)
    real_logits, fake_logits = D(x, y), D(fake.detach(), y)
    d_loss = bce(real_logits, torch.full_like(real_logits, 0.9)) + bce(fake_logits, torch.zeros_like(fake_logits))
    d_opt.zero_grad(set_to_none=True)
    d_loss.backward()
    d_opt.step()
    for p in D.parameters():
        p.requires_grad_(False)
    g_logits = D(fake, y)
    g_loss = bce(g_logits, torch.ones_like(g_logits))
    g_opt.zero_grad(set_to_none=True)
    g_loss.backward()
    for p in D.parameters():
        p.requires_grad_(True)
    g_opt.step()
    # the stats nabla's step returns
    return d_loss.item(), g_loss.item(), torch.sigmoid(real_logits.detach()).mean().item(), \
        torch.sigmoid(fake_logits.detach()).mean().item(), torch.sigmoid(g_logits.detach()).mean().item()


run([
    ("BM_GanTrainStep", gan_step, {}),
])
