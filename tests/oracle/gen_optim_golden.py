#!/usr/bin/python3
"""Writes torch.optim golden trajectories into tests/data/golden/optim_<family>.txt.

Run with Debian's python3-torch:  /usr/bin/python3 tests/oracle/gen_optim_golden.py

Every optimizer configuration runs 50 steps in f64 on three problems: the Rosenbrock
function, a small linear regression and a 2-layer tanh MLP (whose two layers are two
parameter groups, the second with its own options). A case named C = <config>.<problem>
stores (same line format as gen_golden.py, see tests/oracle/README.md):
  C.arg.steps          number of steps (i64)
  C.arg.split          parameters in group 0 (i64); the rest form group 1
  C.opt.<field>        group 0's options (f64; bools 0/1), betas as beta1 / beta2
  C.group1.<field>     group 1's options that differ from group 0 (two-group cases)
  C.data.<name>        the problem's fixed data
  C.init.<param>       the initial parameters
  C.step<k>.<param>    the parameters after k steps, every 10 steps
With `maximize` the objective is the negated loss, so every trajectory descends.
Lion is not in torch 1.13: LionReference below is the rule of Chen et al. 2023
(Algorithm 2, decoupled weight decay). NAdam runs PyTorch's multi-tensor (foreach)
path: 1.13's single-tensor loop multiplies mu_t into mu_{t+1}'s product twice.
"""
import math
import os
import sys

try:
    import torch
except ImportError:
    sys.exit("gen_optim_golden.py needs PyTorch: run it with /usr/bin/python3 "
             "(apt-get install python3-torch)")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "data", "golden")
SEED = 20240602
STEPS = 50
EVERY = 10


class LionReference(torch.optim.Optimizer):
    """Lion: p *= 1 - lr*wd; p -= lr*sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0, maximize=False):
        super().__init__(params, dict(lr=lr, betas=betas, weight_decay=weight_decay,
                                      maximize=maximize))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if group["maximize"] else p.grad
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                m = state["exp_avg"]
                p.mul_(1 - lr * wd)
                c = m * beta1 + g * (1 - beta1)
                p.add_(torch.sign(c), alpha=-lr)
                m.mul_(beta2).add_(g, alpha=1 - beta2)


def lion_check():
    """The reference against a plain-python loop over scalars (a second, independent
    reading of the paper's rule)."""
    p0, grads = [0.5, -1.25, 2.0], [[0.3, -0.2, 0.0], [-0.1, -0.4, 0.7], [0.2, 0.1, -0.9]]
    lr, b1, b2, wd = 0.1, 0.9, 0.99, 0.5
    p, m = list(p0), [0.0, 0.0, 0.0]
    for g in grads:
        for i in range(3):
            c = b1 * m[i] + (1 - b1) * g[i]
            p[i] = p[i] * (1 - lr * wd) - lr * ((c > 0) - (c < 0))
            m[i] = b2 * m[i] + (1 - b2) * g[i]
    t = torch.tensor(p0, requires_grad=True)
    opt = LionReference([t], lr=lr, betas=(b1, b2), weight_decay=wd)
    for g in grads:
        t.grad = torch.tensor(g)
        opt.step()
    assert max(abs(a - b) for a, b in zip(t.tolist(), p)) < 1e-15, (t.tolist(), p)


# ---- problems: (params, data, loss(params, data)) ---------------------------------------
def rosenbrock(gen):
    params = {"x": torch.tensor([-0.5, 0.5])}
    def loss(p, d):
        a, b = p["x"][0:1], p["x"][1:2]
        return ((1 - a) ** 2 + 100 * (b - a * a) ** 2).sum()
    return params, {}, loss


def linreg(gen):
    x = torch.randn(32, 5, generator=gen)
    w_true = torch.randn(5, 1, generator=gen)
    y = x @ w_true + 0.1 * torch.randn(32, 1, generator=gen)
    params = {"w": 0.1 * torch.randn(5, 1, generator=gen), "b": torch.zeros(1)}
    def loss(p, d):
        return ((d["x"] @ p["w"] + p["b"] - d["y"]) ** 2).mean()
    return params, {"x": x, "y": y}, loss


def mlp(gen):
    x = torch.randn(16, 4, generator=gen)
    y = torch.randn(16, 2, generator=gen)
    params = {"w1": 0.5 * torch.randn(4, 8, generator=gen), "b1": 0.1 * torch.randn(8, generator=gen),
              "w2": 0.5 * torch.randn(8, 2, generator=gen), "b2": torch.zeros(2)}
    def loss(p, d):
        h = torch.tanh(d["x"] @ p["w1"] + p["b1"])
        return ((h @ p["w2"] + p["b2"] - d["y"]) ** 2).mean()
    return params, {"x": x, "y": y}, loss


PROBLEMS = [("rosenbrock", rosenbrock, None), ("linreg", linreg, None), ("mlp", mlp, 2)]

# ---- configurations: family -> [(config, optimizer class, kwargs, group-1 overrides)] ----
O = torch.optim
FAMILIES = {
    "sgd": [
        ("gd", O.SGD, dict(lr=1e-3), None),
        ("gd_wd", O.SGD, dict(lr=1e-3, weight_decay=0.1), None),
        ("sgd_momentum", O.SGD, dict(lr=1e-3, momentum=0.9), dict(momentum=0.5)),
        ("sgd_dampening", O.SGD, dict(lr=1e-3, momentum=0.9, dampening=0.5), None),
        ("sgd_nesterov", O.SGD, dict(lr=1e-3, momentum=0.9, nesterov=True), None),
        ("sgd_wd_maximize", O.SGD, dict(lr=1e-3, momentum=0.5, weight_decay=0.01, maximize=True),
         dict(weight_decay=0.0)),
    ],
    "rmsprop": [
        ("rmsprop", O.RMSprop, dict(lr=1e-3), None),
        ("rmsprop_centered", O.RMSprop, dict(lr=1e-3, centered=True, alpha=0.9), None),
        ("rmsprop_momentum", O.RMSprop, dict(lr=1e-3, momentum=0.9), dict(momentum=0.0)),
        ("rmsprop_centered_momentum_wd", O.RMSprop,
         dict(lr=1e-3, centered=True, momentum=0.5, weight_decay=0.01, eps=1e-6), None),
        ("rmsprop_maximize", O.RMSprop, dict(lr=1e-3, maximize=True), None),
    ],
    "adam": [
        ("adam", O.Adam, dict(lr=1e-2), None),
        ("adam_wd", O.Adam, dict(lr=1e-2, weight_decay=0.1), dict(weight_decay=0.0)),
        ("adam_amsgrad", O.Adam, dict(lr=1e-2, amsgrad=True, betas=(0.8, 0.99), eps=1e-6), None),
        ("adam_maximize", O.Adam, dict(lr=1e-2, maximize=True), None),
        ("adamw", O.AdamW, dict(lr=1e-2), None),
        ("adamw_amsgrad", O.AdamW, dict(lr=1e-2, weight_decay=0.1, amsgrad=True),
         dict(amsgrad=False)),
        ("adamw_maximize", O.AdamW, dict(lr=1e-2, maximize=True), None),
    ],
    "nadam_radam": [
        ("nadam", O.NAdam, dict(lr=1e-2, foreach=True), None),
        ("nadam_wd", O.NAdam, dict(lr=1e-2, weight_decay=0.05, momentum_decay=1e-2, foreach=True),
         None),
        ("radam", O.RAdam, dict(lr=1e-2), None),
        ("radam_wd", O.RAdam, dict(lr=1e-2, weight_decay=0.05, betas=(0.8, 0.99)), None),
    ],
    "adagrad_adadelta": [
        ("adagrad", O.Adagrad, dict(lr=0.1), None),
        ("adagrad_decay", O.Adagrad,
         dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01), None),
        ("adagrad_maximize", O.Adagrad, dict(lr=0.1, maximize=True), None),
        ("adadelta", O.Adadelta, dict(), None),
        ("adadelta_rho_wd", O.Adadelta, dict(lr=0.5, rho=0.8, eps=1e-5, weight_decay=0.01), None),
        ("adadelta_maximize", O.Adadelta, dict(maximize=True), None),
    ],
    "adamax_lion": [
        ("adamax", O.Adamax, dict(lr=1e-2), None),
        ("adamax_wd", O.Adamax, dict(lr=1e-2, weight_decay=0.05, betas=(0.8, 0.99)), None),
        ("adamax_maximize", O.Adamax, dict(lr=1e-2, maximize=True), None),
        ("lion", LionReference, dict(lr=1e-3), None),
        ("lion_wd", LionReference, dict(lr=1e-3, weight_decay=0.5, betas=(0.95, 0.98)), None),
        ("lion_maximize", LionReference, dict(lr=1e-3, maximize=True), None),
    ],
}


def fmt(x):
    if math.isnan(x) or math.isinf(x):
        raise ValueError("non-finite value in a golden trajectory")
    return "%.17g" % x


class Writer:
    def __init__(self):
        self.lines = []

    def tensor(self, name, t):
        t = t.detach().contiguous()
        if t.dtype == torch.int64:
            values = [str(int(v)) for v in t.reshape(-1).tolist()]
            dtype = "i64"
        else:
            values = [fmt(v) for v in t.reshape(-1).tolist()]
            dtype = "f64"
        self.lines.append(" ".join([name, dtype, str(t.dim())] + [str(d) for d in t.shape] + values))

    def options(self, prefix, kwargs):
        for k, v in kwargs.items():
            if k == "foreach":
                continue
            if k == "betas":
                self.tensor(prefix + "beta1", torch.tensor(float(v[0])))
                self.tensor(prefix + "beta2", torch.tensor(float(v[1])))
            else:
                self.tensor(prefix + k, torch.tensor(float(v)))


def run_case(w, case, cls, kwargs, group1, problem, split, gen):
    params, data, loss_fn = problem(gen)
    names = list(params)
    p = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    if split is None:
        groups = [{"params": [p[k] for k in names]}]
    else:
        g1 = dict(lr=0.5 * kwargs.get("lr", 1.0))  # only Adadelta (default lr 1) omits lr
        g1.update(group1 or {})
        groups = [{"params": [p[k] for k in names[:split]]},
                  dict(params=[p[k] for k in names[split:]], **g1)]
    opt = cls(groups, **kwargs)
    sign = -1.0 if kwargs.get("maximize", False) else 1.0
    w.tensor(f"{case}.arg.steps", torch.tensor(STEPS))
    w.tensor(f"{case}.arg.split", torch.tensor(len(names) if split is None else split))
    w.options(f"{case}.opt.", kwargs)
    if split is not None:
        w.options(f"{case}.group1.", g1)
    for k, v in data.items():
        w.tensor(f"{case}.data.{k}", v)
    for k in names:
        w.tensor(f"{case}.init.{k}", params[k])
    for step in range(1, STEPS + 1):
        opt.zero_grad()
        (sign * loss_fn(p, data)).backward()
        opt.step()
        if step % EVERY == 0:
            for k in names:
                w.tensor(f"{case}.step{step}.{k}", p[k])


def main():
    torch.set_default_dtype(torch.float64)  # NAdam's mu_product and the step counts in f64
    torch.set_num_threads(1)
    lion_check()
    os.makedirs(OUT, exist_ok=True)
    for family, configs in FAMILIES.items():
        gen = torch.Generator().manual_seed(SEED)
        w = Writer()
        for config, cls, kwargs, group1 in configs:
            for pname, problem, split in PROBLEMS:
                run_case(w, f"{config}.{pname}", cls, kwargs, group1, problem, split, gen)
        header = [f"# descent golden values: optim_{family} ({len(configs) * len(PROBLEMS)} cases)",
                  f"# generated by tests/oracle/gen_optim_golden.py with torch {torch.__version__}, "
                  f"seed {SEED}",
                  "# <name> <dtype> <ndim> <dims...> <values...>; see tests/oracle/README.md"]
        path = os.path.join(OUT, f"optim_{family}.txt")
        with open(path, "w") as f:
            f.write("\n".join(header + w.lines) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
