#!/usr/bin/python3
# gen.py -- writes optuna.txt: random studies pruned by Optuna's
# MedianPruner and SuccessiveHalvingPruner, each report's decision, for
# check_prune to replay against core/prune.c.  Run under Debian's
# python3-optuna (3.1): /usr/bin/python3 tests/data/prune/gen.py > optuna.txt
import random, warnings
import optuna
from optuna.trial import TrialState

warnings.filterwarnings("ignore")
optuna.logging.set_verbosity(optuna.logging.ERROR)
rng = random.Random(12)
print("# rule maximise warmup startup min_resource reduction_factor; then per trial")
print("# its reports step:value and the decisions, 1 = pruned (the trial stops there)")
for n in range(120):
    rule = rng.choice(["median", "asha"])
    maximise = rng.random() < 0.5
    warmup, startup = rng.randint(0, 3), rng.randint(0, 4)
    minres, rf = rng.randint(1, 3), rng.randint(2, 4)
    if rule == "median":
        pruner = optuna.pruners.MedianPruner(n_startup_trials=startup, n_warmup_steps=warmup)
    else:
        pruner = optuna.pruners.SuccessiveHalvingPruner(min_resource=minres, reduction_factor=rf)
    study = optuna.create_study(direction="maximize" if maximise else "minimize", pruner=pruner)
    print("S %s %d %d %d %d %d" % (rule, maximise, warmup, startup, minres, rf))
    for t in range(rng.randint(1, 12)):
        trial = study.ask()
        level, slope = rng.uniform(0, 1), rng.uniform(-0.1, 0.2)
        reports, step = [], 0
        for k in range(rng.randint(1, 12)):
            if rng.random() < 0.1:
                step = max(0, step - rng.randint(0, 2))  # again, or back
            elif rng.random() < 0.15:
                step += rng.randint(2, 5)                # a jump
            v = round(level + slope * step + rng.gauss(0, 0.05), rng.choice([2, 17]))
            reports.append((step, v))
            step += 1
        out = []
        for s, v in reports:
            trial.report(v, s)
            p = trial.should_prune()
            out.append("1" if p else "0")
            if p:
                break
        if out[-1] == "1":
            study.tell(trial, state=TrialState.PRUNED)
        else:
            study.tell(trial, reports[-1][1])
        print("T %s = %s" % (" ".join("%d:%r" % r for r in reports), "".join(out)))
