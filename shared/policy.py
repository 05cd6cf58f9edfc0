"""Learning policies: VW command lines, their validation, and how exploration is applied.

The default policy was chosen by measurement (`python -m bench policies` and `learning`, results in
docs/benchmarks.md), not copied from Personalizer's `--epsilon 0.2`: on Tom/Anna, synthetic cover
reached the best CTR at 5,000 steps with the least spread between seeds, recovered best from
preference drift, and was the policy that met the 0.88 target through the whole HTTP loop. Served
with rank's 2% probability floor (shared/sampling.py), it still leads (0.940 at 5,000 steps, vs
0.728 for squarecb and 0.441 for Personalizer's own default with its `-l 0.001 --power_t 0`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from functools import cached_property

from shared.contracts import PolicyContract
from shared.vw_model import MULTI_SLOT

DEFAULT_POLICY = PolicyContract(
    name="synthcover-quadratic",
    arguments="--cb_explore_adf --synthcover -q ::",
)

# Exploration algorithms other than epsilon-greedy: with none of these VW explores with epsilon.
_OTHER_EXPLORERS = {
    "--squarecb",
    "--bag",
    "--cover",
    "--softmax",
    "--regcb",
    "--regcbopt",
    "--synthcover",
    "--rnd",
    "--first",
    "--large_action_space",
}
# Input formats are ours to choose (text); Personalizer policies often carry --dsjson.
_DROPPED = {"--dsjson", "--json", "--quiet"}
# Options that read or write files on the server are never accepted from a caller.
_FORBIDDEN = {
    "-i",
    "--initial_regressor",
    "-f",
    "--final_regressor",
    "-d",
    "--data",
    "--cache_file",
    "-c",
    "--cache",
    "-p",
    "--predictions",
    "-r",
    "--raw_predictions",
    "--readable_model",
    "--invert_hash",
    "--daemon",
    "--port",
    "--pid_file",
    "--audit_regressor",
    "--dictionary",
    "--dictionary_path",
}


class PolicyError(ValueError):
    pass


@dataclass(frozen=True)
class Policy:
    name: str
    arguments: str  # normalised VW arguments (no input-format or file options)

    @cached_property  # read on every rank: parse the arguments once
    def is_epsilon_greedy(self) -> bool:
        return not (set(shlex.split(self.arguments)) & _OTHER_EXPLORERS)

    def contract(self) -> PolicyContract:
        return PolicyContract(name=self.name, arguments=self.arguments)


def normalise(arguments: str) -> str:
    try:
        tokens = shlex.split(arguments)
    except ValueError as exc:
        raise PolicyError(f"arguments cannot be parsed: {exc}") from exc
    kept: list[str] = []
    for token in tokens:
        option = token.split("=", 1)[0]
        if option in _FORBIDDEN:
            raise PolicyError(f"option {option} is not allowed in a policy")
        if option not in _DROPPED:
            kept.append(token)
    if "--cb_explore_adf" not in kept and MULTI_SLOT not in kept:
        raise PolicyError(
            "arguments must use --cb_explore_adf (or --ccb_explore_adf for multi-slot): "
            "actions with features"
        )
    return " ".join(kept)


def validate(contract: PolicyContract) -> Policy:
    """Normalise and check the arguments by building a VW workspace with them."""
    from shared.vw_model import VWModel

    arguments = normalise(contract.arguments)
    try:
        VWModel.fresh(arguments).close()
    except Exception as exc:  # VW raises plain exceptions with its own message
        raise PolicyError(f"Vowpal Wabbit rejected the arguments: {exc}") from exc
    return Policy(contract.name, arguments)


def from_contract(contract: PolicyContract) -> Policy:
    """A stored (already validated) contract as a Policy."""
    return Policy(contract.name, normalise(contract.arguments))
