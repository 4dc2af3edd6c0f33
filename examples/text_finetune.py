"""Fine-tune the sentence encoder on labelled tweets, then classify them.

``SentenceEmbedder(fine_tune=...)`` trains a private copy of all-MiniLM-L6-v2
on the texts and labels given to ``fit(X, y)``, then embeds with it; the
downstream model is any scikit-learn estimator. This example compares, on the
bundled financial news tweets (bearish / bullish / neutral):

1. the frozen encoder + logistic regression;
2. the encoder fine-tuned for one epoch with a classification head
   (``fine_tune="classification"``) + logistic regression;

both trained on the same stratified sample of the ``train`` split and scored
on the ``valid`` split, each as one ``Pipeline``. Fine-tuning runs on CPU: a
backward pass per text, so a few minutes for 2,000 tweets on 2 cores.

``SKQUANT_EXAMPLE_QUICK=1`` trains on 150 tweets and scores 300 (CI, under a
minute): too few for one epoch to change much. The full run (2,000 tweets,
3.5 minutes on 2 CPUs with ``OMP_NUM_THREADS=1``) shows the gain: accuracy
0.776 to 0.814, macro F1 0.683 to 0.737 (``benchmarks/bench_text.py``: 0.8132
and 0.7370, one run, another thread setting). It writes no files.
"""

import os
import time

from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

from skquant.datasets import load_financial_tweets
from skquant.text import SentenceEmbedder

QUICK = os.environ.get("SKQUANT_EXAMPLE_QUICK") == "1"
N_TRAIN, N_VALID = (150, 300) if QUICK else (2000, None)

train = load_financial_tweets("train")
train = train.groupby("label").sample(frac=N_TRAIN / len(train), random_state=0)
valid = load_financial_tweets("valid")
if N_VALID is not None:
    valid = valid.groupby("label").sample(frac=N_VALID / len(valid), random_state=0)
print(f"{len(train)} training tweets, {len(valid)} validation tweets")

for fine_tune in (None, "classification"):
    model = make_pipeline(
        SentenceEmbedder(fine_tune=fine_tune, random_state=0),
        LogisticRegression(C=3.0, max_iter=2000),
    )
    start = time.perf_counter()
    model.fit(train["text"], train["sentiment"])  # y: the labels to tune on
    seconds = time.perf_counter() - start
    pred = model.predict(valid["text"])
    print(
        f"fine_tune={fine_tune!s:>14}: accuracy "
        f"{accuracy_score(valid['sentiment'], pred):.3f}, macro F1 "
        f"{f1_score(valid['sentiment'], pred, average='macro'):.3f} "
        f"(fit {seconds:.0f} s)"
    )

# The fitted embedder carries its fine-tuned weights (encoder_): pickling the
# pipeline stores them (about 90 MB), and its cached embeddings are keyed by a
# hash of those weights, never mixed with the frozen model's.
embedder = model[0]
print("training loss per epoch:", [round(x, 3) for x in embedder.fine_tune_loss_])
