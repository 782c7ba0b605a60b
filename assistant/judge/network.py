"""The judge as a torch module: base MiniLM + mean pooling + a linear head, and the shipped delta.

Only training and the one-time ONNX export import this (torch, transformers). The delta file
holds, for each adapted linear layer `<name>`, LoRA matrices `<name>.lora_A` (rank x in) and
`<name>.lora_B` (out x rank), plus `head.weight` and `head.bias`; merging adds
alpha/rank * B @ A to the base weight, so the merged model runs as fast as the base.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from assistant.judge.inputs import CONFIG, DELTA, base_path, encode
from assistant.models import export_onnx

# Every linear layer of every block: attention q/k/v and output, both feed-forward layers.
LORA_TARGETS = ["query", "key", "value", "attention.output.dense", "intermediate.dense",
                "output.dense"]


class CrossEncoder(torch.nn.Module):
    """Mean-pooled last hidden state (how all-MiniLM-L6-v2 was trained to pool) -> one logit."""

    def __init__(self, bert, head: torch.nn.Linear | None = None):
        super().__init__()
        self.bert = bert
        self.head = head or torch.nn.Linear(bert.config.hidden_size, 1)

    def forward(self, input_ids, attention_mask, token_type_ids):
        hidden = self.bert(input_ids=input_ids, attention_mask=attention_mask,
                           token_type_ids=token_type_ids).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
        return self.head(pooled).squeeze(-1)


def base_bert():
    import transformers

    transformers.utils.logging.disable_progress_bar()
    # The packaged folder also holds the sentence-transformers pooler, which the judge does not use.
    return transformers.AutoModel.from_pretrained(str(base_path()), add_pooling_layer=False)


def load_trained(delta: Path = DELTA, config_file: Path = CONFIG) -> CrossEncoder:
    """The base weights with the shipped delta merged in, in eval mode."""
    config = json.loads(config_file.read_text())
    tensors = load_file(str(delta))
    bert = base_bert()
    scale = config["lora_alpha"] / config["lora_rank"]
    modules = dict(bert.named_modules())
    adapted = [k[:-len(".lora_A")] for k in tensors if k.endswith(".lora_A")]
    if len(adapted) != bert.config.num_hidden_layers * len(LORA_TARGETS):
        raise ValueError(f"{delta}: {len(adapted)} adapted layers, not the "
                         f"{bert.config.num_hidden_layers * len(LORA_TARGETS)} trained")
    with torch.no_grad():
        for name in adapted:
            a, b = tensors[f"{name}.lora_A"].float(), tensors[f"{name}.lora_B"].float()
            modules[name].weight += scale * (b @ a)
        head = torch.nn.Linear(bert.config.hidden_size, 1)
        head.weight.copy_(tensors["head.weight"].float())
        head.bias.copy_(tensors["head.bias"].float())
    return CrossEncoder(bert, head).eval()


def save_delta(model: CrossEncoder, config: dict, delta: Path = DELTA,
               config_file: Path = CONFIG) -> None:
    """Write what training changed: the LoRA matrices of a peft-wrapped model and the head."""
    tensors = {}
    for key, value in model.bert.state_dict().items():
        # peft names them "base_model.model.<name>.lora_A.default.weight"
        for part in ("lora_A", "lora_B"):
            marker = f".{part}.default.weight"
            if key.endswith(marker):
                name = key[:-len(marker)].removeprefix("base_model.model.")
                tensors[f"{name}.{part}"] = value.detach().to(torch.float16).contiguous()
    tensors["head.weight"] = model.head.weight.detach().float().contiguous()
    tensors["head.bias"] = model.head.bias.detach().float().contiguous()
    delta.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(delta))
    config_file.write_text(json.dumps(config, indent=2) + "\n")


def export(target: Path) -> None:
    sample = encode([("question: a sample", "a sample sentence | title"),
                     ("question: another", "another sample sentence")])
    inputs = list(sample)
    export_onnx(load_trained(), tuple(torch.from_numpy(sample[k]) for k in inputs), inputs,
                "logit", target, "the judge")
