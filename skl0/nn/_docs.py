"""numpydoc text that the torch building blocks share (filled by skl0._numpydoc).

Parameters by name, for ``%(parameters)s`` (the defaults come from each
signature) and ``%(name)s``; a tuple is a group of entries written together.
"""

from __future__ import annotations

from .._numpydoc import Entry

__all__ = ["GATE_ATTRIBUTES", "NN"]

#: The attributes every gated layer has, after its weight, bias and l0_gate.
GATE_ATTRIBUTES = (
    Entry("gate", "str", "The gate mode, as passed."),
    Entry("init_sparsity", "float", """\
As passed; :meth:`reset_parameters` returns the gates to it."""),
    Entry("generator", "torch.Generator or None", """\
The gate noise source (a property of ``l0_gate``); it must live on
the same device as the layer."""),
)

NN = {
    entry.name: entry
    for entry in (
        Entry("temperature", "float", """\
Hard Concrete temperature ``beta`` (> 0); see
:func:`skl0.nn.set_temperature` to anneal it.""", default=2.0 / 3.0, shown="2/3"),
        Entry("gamma", "float", "Lower stretch limit of the Hard Concrete distribution (< 0)."),
        Entry("zeta", "float", "Upper stretch limit (> 1)."),
        Entry("init_prob", "float", "Initial probability that each gate is open, in (0, 1)."),
        Entry("init_sparsity", "float", """\
Initial expected fraction of closed gates, strictly in (0, 1): every
gate starts with ``P(gate != 0) = 1 - init_sparsity`` (eq. 12)."""),
        Entry("generator", "torch.Generator or None", """\
Source of the gate noise in training mode; ``None`` uses torch's
default generator."""),
        Entry("device, dtype", "optional", """\
Passed to the torch layer and to the gate; ``device="auto"`` is CUDA
when it is available, else the CPU."""),
        Entry("model", "torch.nn.Module", "Any module tree; its gates are found wherever they sit."),
        Entry("start", "float", "Temperature at step 0 (> 0)."),
        Entry("end", "float", "Temperature from step ``n_steps`` on (> 0)."),
        Entry("n_steps", "int", "Length of the annealing phase (>= 1)."),
    )
}
NN.update(
    # The arguments of the Hard Concrete formulas.
    hard_concrete_args=(
        Entry("log_alpha", "torch.Tensor or ndarray", "Gate location parameters."),
        Entry("temperature, gamma, zeta", "float", """\
Hard Concrete parameters (:func:`check_hard_concrete_params`)."""),
    ),
    # What set_temperature and set_generator return.
    n_gates_updated=(
        "Returns\n-------\n"
        + Entry("n_gates", "int", "Number of gate modules updated.").text()
    ),
)
