"""The LSTM text classifier: Embedding -> (Bi)LSTM -> masked max+mean pooling -> Linear.

`forward` returns logits only, so the same module serves training, evaluation and
Beam's RunInference. Padding (id 0) never reaches the result: sequences are packed
for the LSTM and padded positions are masked out of the pooling.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from sentiment_model.vocab import PAD_ID


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int  # rows of the embedding table, from the vocabulary
    num_classes: int  # from the label set of the training data
    embed_dim: int = 128  # word vector size; 128 trains fast on CPU with no loss on tweets
    hidden_dim: int = 128  # LSTM state size per direction
    num_layers: int = 1  # stacked LSTM layers
    bidirectional: bool = True  # read both ways: sentiment often hinges on what comes after
    dropout: float = 0.4  # on embeddings and before the classifier head
    pooling: str = "max_mean"  # "last", "max", "mean" or "max_mean" over hidden states

    def __post_init__(self) -> None:
        if self.pooling not in ("last", "max", "mean", "max_mean"):
            raise ValueError(f"pooling must be last, max, mean or max_mean, not {self.pooling!r}")
        if self.vocab_size < 3 or self.num_classes < 2:
            raise ValueError("vocab_size must be >= 3 and num_classes >= 2")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")

    def to_dict(self) -> dict:
        return asdict(self)


class LSTMClassifier(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.embedding = nn.Embedding(config.vocab_size, config.embed_dim, padding_idx=PAD_ID)
        self.dropout = nn.Dropout(config.dropout)
        self.lstm = nn.LSTM(
            config.embed_dim,
            config.hidden_dim,
            num_layers=config.num_layers,
            bidirectional=config.bidirectional,
            batch_first=True,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        directions = 2 if config.bidirectional else 1
        pooled = config.hidden_dim * directions * (2 if config.pooling == "max_mean" else 1)
        self.head = nn.Linear(pooled, config.num_classes)

    def hidden_states(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None):
        """Per-token LSTM outputs [B, T, H*dirs], the mask of real tokens, and the lengths."""
        if lengths is None:
            lengths = (tokens != PAD_ID).sum(dim=1)
        lengths = lengths.clamp(min=1)
        embedded = self.dropout(self.embedding(tokens))
        packed = pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
        outputs, _ = self.lstm(packed)
        outputs, _ = pad_packed_sequence(outputs, batch_first=True, total_length=tokens.size(1))
        positions = torch.arange(tokens.size(1), device=tokens.device)
        mask = positions[None, :] < lengths[:, None].to(tokens.device)
        return outputs, mask, lengths

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        """Logits [B, num_classes] for token ids [B, T] padded with 0."""
        outputs, mask, lengths = self.hidden_states(tokens, lengths)
        return self.head(self.dropout(self._pool(outputs, mask, lengths)))

    def _pool(self, outputs: torch.Tensor, mask: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        mode = self.config.pooling
        if mode == "last":
            return self._last(outputs, lengths)
        m = mask.unsqueeze(-1)
        maxed = outputs.masked_fill(~m, float("-inf")).max(dim=1).values
        mean = (outputs * m).sum(dim=1) / lengths.to(outputs.device)[:, None]
        return {"max": maxed, "mean": mean}.get(mode, torch.cat([maxed, mean], dim=-1))

    def _last(self, outputs: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        index = (lengths.to(outputs.device) - 1).view(-1, 1, 1).expand(-1, 1, outputs.size(2))
        forward_last = outputs.gather(1, index).squeeze(1)
        if not self.config.bidirectional:
            return forward_last
        half = self.config.hidden_dim
        return torch.cat([forward_last[:, :half], outputs[:, 0, half:]], dim=-1)
