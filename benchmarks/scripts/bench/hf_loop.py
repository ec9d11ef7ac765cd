"""The reference the GPU seeds use: a plain transformers + pytorch-crf training loop."""
import random
from pathlib import Path
from typing import Sequence

import spacy
import torch
from spacy.tokens import DocBin
from spacy.training import offsets_to_biluo_tags
from spacy.util import minibatch

from .timing import DROPOUT, rate, timed


def hf_loop(bert_dir: Path, doc_bin: DocBin, settings: dict, device: str = "cuda") -> dict:
    """Reference: transformers' BertModel + Linear + pytorch-crf, AdamW, on
    the same batches and the same BIOES gold tags as crf_ner."""
    from torch import nn
    from torchcrf import CRF
    from transformers import BertModel, BertTokenizerFast

    from spacy_cluener.tag_schemes import biluo_to_scheme, tag_names

    docs = list(doc_bin.get_docs(spacy.blank("zh").vocab))
    labels = sorted({e.label_ for doc in docs for e in doc.ents})
    index = {t: i for i, t in enumerate(tag_names(labels, "BIOES"))}
    words = [[t.text for t in doc] for doc in docs]
    gold = []
    for doc in docs:
        biluo = offsets_to_biluo_tags(doc, [(e.start_char, e.end_char, e.label_) for e in doc.ents])
        gold.append([index[t] for t in biluo_to_scheme(biluo, "BIOES")])
    tokenizer = BertTokenizerFast.from_pretrained(bert_dir)
    bert = BertModel.from_pretrained(bert_dir).to(device)
    head = nn.Sequential(nn.Dropout(DROPOUT), nn.Linear(bert.config.hidden_size, len(index))).to(device)
    crf = CRF(len(index), batch_first=True).to(device)
    head_params = list(head.parameters()) + list(crf.parameters())
    optimizer = torch.optim.AdamW(
        [{"params": bert.parameters(), "lr": 3e-5}, {"params": head_params, "lr": 1e-3}], weight_decay=0.01
    )

    def step(batch: Sequence[int]) -> None:
        enc = tokenizer([words[i] for i in batch], is_split_into_words=True, padding=True,
                        truncation=True, max_length=512, return_tensors="pt")
        longest = max(len(words[i]) for i in batch)
        first_piece = torch.zeros((len(batch), longest), dtype=torch.long)
        tags = torch.zeros((len(batch), longest), dtype=torch.long)
        for row, i in enumerate(batch):
            for pos, word in reversed(list(enumerate(enc.word_ids(row)))):
                if word is not None:
                    first_piece[row, word] = pos
            tags[row, : len(gold[i])] = torch.tensor(gold[i])
        lengths = torch.tensor([len(words[i]) for i in batch])
        mask = (torch.arange(longest).unsqueeze(0) < lengths.unsqueeze(1)).to(device)
        hidden = bert(input_ids=enc["input_ids"].to(device),
                      attention_mask=enc["attention_mask"].to(device)).last_hidden_state
        width = hidden.shape[-1]
        hidden = hidden.gather(1, first_piece.to(device).unsqueeze(-1).expand(-1, -1, width))
        loss = -crf(head(hidden), tags.to(device), mask=mask, reduction="sum")
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(bert.parameters()) + head_params, 1.0)
        optimizer.step()
        optimizer.zero_grad()

    rng = random.Random(0)
    order = list(range(len(docs)))
    rng.shuffle(order)
    batches = list(minibatch(order, size=settings["train_batch_docs"]))
    chars = sum(len(doc.text) for doc in docs)
    bert.train()
    head.train()
    sync = torch.cuda.synchronize if device == "cuda" else lambda: None
    for batch in batches[:3]:
        step(batch)
    seconds = [timed(lambda: [step(b) for b in batches], sync) for _ in range(settings["repeats"])]
    return rate(chars, seconds)
