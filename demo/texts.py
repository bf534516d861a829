"""Every text the page says, in English and in Japanese: one table per language, the same keys in both.

Two ways a text reaches the page:
- static texts (labels, buttons, Markdown, radio choices, tab names, the page's title) go to the page as keys,
  `static(key)`, and the page's own i18n (gr.I18n, given to launch) picks the language the page is shown in;
- texts the server builds (readings, progress lines, notes, messages) are looked up here with the visitor's
  language, `say(lang, key, **values)`; `language_of(request)` tells that language from the event's request.

A visitor's language: `?lang=ja` / `?lang=en` in the page's address (the page's switch sets it; every event's
request carries the page's address as its Referer), else the first language of the browser (Accept-Language, which
is also what the page's own i18n follows). English is the default.

Static texts are read by the page's i18n (svelte-i18n, ICU message format): they have no `{...}` placeholders.
Texts built here use str.format placeholders. The Japanese uses the write-up's own words (生成モデル1, 潜在変数 z,
手書き文字画像, 再構成画像, 標準正規分布, ...); formulas stay formulas.
"""
import functools
import json
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import gradio as gr
from PIL import ImageFont

EN = {
    # The page
    "page_title": "Conditional VAE · MNIST",
    "intro": """
# ✍️ Conditional VAE on MNIST
<p>Two conditional VAEs: <b>model 1</b> draws a digit <i>y</i> in a style <i>z</i> — p(x | z, y);
<b>model 2</b> reads a digit — p(y | x, z). Play with the style, draw your own digits, or train a model.</p>
""",
    "tab_generate": "Generate",
    "tab_draw": "Draw",
    "tab_train": "Train",
    "tab_model": "Model",

    # Generate tab
    "generate_help": """Pick a digit, then drag the sliders: each is one dimension of the style **z**, and the
picture is redrawn as you drag. The digit never changes — z only carries the *style* (slant, thickness, width).""",
    "digit_y": "Digit y",
    "random_z": "Random z",
    "zero_z": "Zero z",
    "more_z": "More style dimensions",
    "model1_draws": "Model 1 draws",
    "z_as_every_digit": "This z as every digit",
    "download_png": "Download PNG",
    "samples_64": "64 samples of the digit (z from the prior)",
    "new_samples": "New samples",
    "morph_frames": "Morph (10 frames)",
    "morph_into": "Morph the digit into",
    "morph_digit": "Morph digit → digit",
    "morph_z": "Morph z → random z",

    # Draw tab
    "draw_help": """Draw a digit on the pad with a mouse, a finger or a pen. Model 2 reads it after every stroke and shows
the 28 × 28 picture it actually saw; model 1 gives a second opinion (which digit's generator explains your drawing
best, and whether any does: try a star or a W); model 1's encoder turns your drawing into a style z and redraws it
as all ten digits. **Undo**, **Redo** and **Clear** are under the pad (or Ctrl+Z), beside model 2's answer; you
can also upload a photo of a digit.""",
    "clear": "Clear",
    "upload_digit": "…or upload a picture of a digit",
    "pad_label": "Drawing pad: draw a digit",
    "pad_undo": "Undo",
    "pad_undo_title": "Undo (Ctrl+Z)",
    "pad_redo": "Redo",
    "pad_redo_title": "Redo (Ctrl+Y)",
    "pad_clear_title": "Clear the pad",
    "pad_answer_title": "Model 2's answer",
    "reading_wait": "reading…",
    "badge_model2": "Model 2:",
    "badge_guess": " (a guess)",
    "draw_a_digit": "draw a digit",
    "not_a_drawing": "The drawing could not be read; clear the pad and draw again.",
    "not_a_drawing_because": "The drawing could not be read ({reason}); clear the pad and draw again.",
    "blank_picture": "The picture is blank: there is no drawing in it to judge.",
    "drawing_pad_sides": "the pad must be {low} to {high} px on a side",
    "drawing_brush": "the brush must be at most {brush} px wide",
    "drawing_points": "at most {strokes} strokes and {points} points",
    "drawing_numbers": "the strokes must be points x,y of whole numbers",
    "drawing_ink": "more ink than {times} times across the whole pad",
    "source_drawing": "drawing",
    "source_upload": "upload",
    "model2_reads": "Model 2 reads your {source} as",
    "only_a_guess": "only a guess",
    "model1_reads": "Model 1 (Bayes' rule with its generator) reads it as",
    "model1_detail": "({named}; best −ELBO {best} nats)",
    "not_a_digit": ("This doesn't look like a digit to model 1: none of its ten digits explains your {source} "
                    "(best −ELBO {best} nats, over its threshold of {threshold}). Model 2 always names a digit: "
                    "its answer is a guess."),
    "both_say": "Both models say {digit}.",
    "models_disagree": "The models disagree: model 2 says {model2}, model 1 says {model1}.",
    "no_threshold": ("This model 1 has no calibrated threshold (it was trained without one), so it gives no "
                     "\"digit or not\" verdict."),
    "seen_alt": "the 28 x 28 picture model 2 saw",
    "seen_caption": "What model 2 saw (28 × 28)",
    "style_alt": "your style as every digit",
    "style_caption": "Your style as every digit (model 1, z from its encoder)",
    "upload_unusable": "That upload cannot be used: {reason}.",
    "image_unusable": "That image cannot be used: {reason}.",

    # Train tab
    "train_help": """Train a model of your own and watch it learn: with the defaults a fresh **generator** draws every digit
recognisably within a minute, and a fresh **classifier** reads about 99 % of the test digits right. Pause and
resume at any time; **Stop** keeps what it has learnt so far. Then use it in this session (the Generate and Draw
tabs run on it), compare it with the shipped model, save it, download it, or train it further. One training runs at
a time on this server; other visitors keep using the shipped models.""",
    "kind_generator": "generator",
    "kind_classifier": "classifier",
    "model": "Model",
    "start_from": "Start from",
    "start_fresh": "a fresh model",
    "start_shipped": "the shipped model",
    "start_yours": "your model",
    "train_for": "Train for",
    "budget_30s": "30 s",
    "budget_1min": "1 min",
    "budget_5min": "5 min",
    "budget_epochs": "until N epochs",
    "epochs_n": "Epochs (N)",
    "train_settings": "Batch size, learning rate, training images",
    "batch_size": "Batch size",
    "peak_lr": "Peak learning rate",
    "training_images": "Training images",
    "start_training": "Start training",
    "pause": "Pause",
    "resume": "Resume",
    "stop": "Stop",
    "not_started": "Not started.",
    "step": "step",
    "curve_train": "train",
    "curve_test": "test",
    "loss_y": "negative ELBO per image",
    "loss_title": "Loss: train, and test every few seconds",
    "loss_empty": "Loss curves: train, and test every few seconds (they appear once training starts)",
    "samples_now": ("Samples now: a row per z, a column per digit (the same z all along; they appear once training "
                    "starts)"),
    "test_accuracy_title": "Test accuracy",
    "accuracy_empty": "Test accuracy (appears after the first test, a few seconds into training)",
    "confusion_label": "Confusion matrix on test digits (rows: true digit, columns: read as)",
    "your_model_heading": "### Your model",
    "use_in_session": "Use in this session",
    "compare_shipped": "Compare with the shipped model",
    "download_zip": "Download (.zip)",
    "save_runs": "Save under runs/",
    "shipped_vs_yours": "Shipped vs yours",
    "load_or_upload": "Load a saved run, or upload a model",
    "saved_runs": "Saved runs",
    "refresh": "Refresh",
    "load_as_yours": "Load as your model",
    "upload_model": "…or upload NAME.safetensors + NAME.json (or the .zip this page downloads)",
    "use_shipped": "Use the shipped models",
    "waiting": "Waiting for another visitor's training to finish…",
    "waiting_place": "Waiting for another visitor's training to finish: {where}{left}.",
    "you_are_next": "you are next",
    "one_ahead": "1 visitor is ahead of you",
    "many_ahead": "{n} visitors are ahead of you",
    "time_left": ", about {duration} left of the one running",
    "minutes_seconds": "{minutes} min {seconds} s",
    "seconds": "{seconds} s",
    "left_the_line": "You left the line: nothing was trained.",
    "training_loading": "Loading data and building the {kind}…",
    "training_failed": "**Training failed:** {error}",
    "where_step": "step {step} · epoch {epoch}",
    "where_start": "the start",
    "speed": " · {speed} images/s",
    "loss_now": " · loss {loss}",
    "clock_budget": "{seconds} s of {budget} s",
    "clock_epochs": "{seconds} s, {percent} % of {epochs} epochs",
    "eta": " · about {eta} s left",
    "training_running": "**Training the {kind}:** {clock} · {where}{speed}{loss}{eta}",
    "training_paused": ("**Paused** at {where} ({clock}). The model, the optimizer and the curves are kept: resume "
                        "when you like."),
    "training_measuring": "**Measuring** the {kind} on the 10,000 test images…",
    "final_test_loss": "test loss {loss}",
    "final_test_accuracy": ", test accuracy {accuracy} %",
    "finished": "Finished",
    "stopped_at": "Stopped at {where}, keeping what it learnt so far",
    "time_limit": " (the server's limit is {limit} a run)",
    "training_ended": "**{ended}** ({seconds} s of training): {figures}. It is now *your model* below.",
    "starting": "Starting: {start} ({kind})…",
    "no_model_yet": "*No model of yours yet: train one, or load one below.*",
    "your_model_is": "**Your model**: a {kind} (`{origin}`)",
    "a_model": "a model",
    "trained_for": "{seconds} s, {steps} steps",
    "stopped_early": ", stopped early",
    "summary_accuracy": "test accuracy {accuracy} %",
    "summary_loss": "test loss {loss}",
    "in_use": "in use in this session",
    "not_in_use": "not in use yet",
    "z_mismatch": ("This generator has a {z_dim}-dimensional z; the page's sliders need {page_z_dim}. It can still be "
                   "saved and downloaded."),
    "no_model_to_use": "There is no model of yours to use yet.",
    "now_uses": "This session now uses your {kind}: the Generate and Draw tabs run on it.",
    "saved_as": "Saved as `{file}` (+ `.json`) in the server's runs folder.",
    "no_model_to_compare": "There is no model of yours to compare yet.",
    "compare_generators": "The same three z, as every digit: the **shipped** generator above, **yours** below.",
    "row_shipped": "shipped",
    "row_yours": "yours",
    "the_shipped_classifier": "the shipped classifier",
    "your_classifier": "your classifier",
    "last_drawing_read": "- Your last drawing: {name} reads **{digit}** ({percent} %)",
    "draw_to_compare": "- Draw a digit on the Draw tab to see both read it.",
    "drawn_set_read": "- {n} drawn digits that are not MNIST: {name} reads **{percent} %** right",
    "run_name_hint_generator": "run name, e.g. my-generator",
    "run_name_hint_classifier": "run name, e.g. my-classifier",
    "full_mnist": "Training data: full MNIST ({n} images).",
    "nothing_training": "Nothing of yours is training.",
    "stopping": "Stopping: the model keeps what it has learnt.",
    "loaded_run": "Loaded {choice} as your model.",
    "uploaded_is_yours": "Your uploaded {kind} is now your model.",

    # Which models a session runs on (demo/shared.py)
    "session_uses_shipped": "This session uses **generator**: shipped · **classifier**: shipped",
    "session_uses": "This session uses {parts}",
    "session_part": "**{kind}**: {which}",
    "shipped": "shipped",
    "your_run": "your run `{run}`",
    "runs_on_shipped_generator": "Runs on **Model 1 (generator)**: the shipped one",
    "runs_on_shipped_classifier_generator": ("Runs on **Model 2 (classifier)**: the shipped one · **Model 1 "
                                             "(generator)**: the shipped one"),
    "runs_on": "Runs on {parts}",
    "runs_on_part": "**{name}**: {which}",
    "model_name_generator": "Model 1 (generator)",
    "model_name_classifier": "Model 2 (classifier)",
    "the_shipped_one": "the shipped one",
    "your_run_bold": "**your** run `{run}`",
    "sample_notice": ("Full MNIST not found and it could not be downloaded: using the bundled sample of real MNIST "
                      "({train} training, {test} test images). Results on it are not comparable to full MNIST."),

    # Explore the latent space (Generate tab, demo/explore.py)
    "explore_help": """### Explore the latent space
In a conditional VAE, **z is the style and y is the digit**: the same z written as another digit keeps its slant,
width and stroke. **Click the map** to move two sliders at once; the **chart** shows what every slider does
(each row one z dimension from −3 to +3, the others as they are; the orange box is where you are). Put a **real
digit** into z, then change the digit above: the same hand writes another digit.""",
    "scatter_help": ("Each point is a digit's style (the mean of q(z|x,y)), coloured by its digit; the magenta ring "
                     "is you. The colours overlap: the digit is in y, not in z."),
    "where_digits_live": "**Where digits live**: {n} MNIST test digits in z. {help}",
    "you_are_here": "you are here",
    "overlap": ("A vote of each point's {k} nearest neighbours names its digit for **{in_two}** of these {n} test "
                "digits from z{x} and z{y}, and **{in_all}** from all {z_dim} dimensions of z; guessing gives 10 %."),
    "latent_map": "Latent map: click to move two sliders",
    "across": "Across (left −3, right +3)",
    "up": "Up (bottom −3, top +3)",
    "preselected": ("Preselected: z{x} and z{y}, the two dimensions that change the picture most (measured by moving "
                    "each from −2 to +2)."),
    "what_each_slider_does": "What each slider does",
    "load_real_digit": "Load a real MNIST digit",
    "use_my_drawing": "Use my drawing",
    "the_real_digit": "The real digit",
    "your_drawing": "Your drawing",
    "reconstruction": "Model 1's reconstruction",
    "real_note_empty": "Load a real digit, or the one you drew on the Draw tab, to see its style in z.",
    "test_digit_note": ("MNIST test digit #{i}, a **{digit}**. Its style z (the mean of q(z|x,y)) is now in the "
                        "sliders: pick another digit above to write it in the same hand."),
    "drawing_note": ("Your drawing, read by model 2 as a **{digit}**. Its style z is now in the sliders: pick another "
                     "digit above to write it in your hand."),
    "draw_first": "Draw a digit on the Draw tab first, then come back and press this again.",
    "drawing_not_a_digit": ("This doesn't look like a digit to model 1: none of its ten digits explains your drawing "
                            "well (best −ELBO {best} nats, over its threshold of {threshold}), so the style z taken "
                            "from it is a guess."),
    "link_label": "Link to this picture",
    "where_digits_live_title": "Where digits live",
    "run_name": "Run name",
    "press_copy_link": "press Copy link",
    "copy_link": "Copy link",
    "pick_dimension": "Pick a z dimension from z1 to z{z_dim}, got {value}.",
    "two_dimensions": "Pick two different z dimensions for the map.",
    "click_the_map": "Click on the map to pick a point.",

    # Messages about saved runs, uploads and trainings (demo/runs.py, demo/training.py, demo/handlers.py)
    "run_name_rule": ("Name the run with letters, digits, '-', '_' or '.' (up to 64, starting with a letter or digit), "
                      "e.g. my-generator-3-epochs."),
    "no_key": ("This page has no valid key for your saved runs: reload the page (your browser keeps the key; it must "
               "be allowed to store data for this site)."),
    "nothing_to_save": "There is no trained model to save yet.",
    "not_into_shipped": "Runs are saved under the runs folder, never into the shipped weights.",
    "run_exists": "You already have a run named {name}; choose another name.",
    "too_many_runs": ("You have {runs} saved runs, the most one visitor can keep on this server; download this model "
                      "instead (the zip uploads back)."),
    "over_quota": ("This run ({size} MB) would take your saved runs past {limit} MB, the most one visitor can keep on "
                   "this server (you use {used} MB); download this model instead (the zip uploads back)."),
    "runs_folder_full": ("The server's runs folder is full; runs cannot be saved here now. Download your model instead "
                         "(it uploads back)."),
    "saves_per_hour": ("{saves} runs were saved from your address in the last hour, the most this server takes; "
                       "try again in {minutes} min, or download this model instead (the zip uploads back)."),
    "address_quota": ("Runs saved from your address take {used} MB, and this one ({size} MB) would pass {limit} MB, the "
                      "most this server keeps for one address; download this model instead (the zip uploads back)."),
    "pick_a_run": "Pick a saved run from the list (refresh it if it is empty).",
    "run_unloadable": "That run cannot be loaded: {fault}.",
    "upload_two_files": ("Upload a model as two files, NAME.safetensors and NAME.json (or the .zip this page "
                         "downloads)."),
    "upload_too_large": "Those files are too large for a model of this demo (at most {mb} MB).",
    "model_unusable": "That model cannot be used: {fault}.",
    "zip_pair": "The zip must hold one .safetensors and one .json file.",
    "zip_method": ("The zip's files are compressed with a method this page does not read; use the zip this page "
                   "downloads, or an ordinary (deflate) zip."),
    "zip_too_large": "The zip's files are too large for a model of this demo (at most {mb} MB, and 1 MB of JSON).",
    "zip_member_too_large": "The zip's {suffix} file is too large for a model of this demo (at most {mb} MB unpacked).",
    "zip_unreadable": "That zip cannot be read ({reason}).",
    "model_kind": "The model must be one of {kinds}, got {value}.",
    "budget_kind": "The time budget must be one of {budgets}, got {value}.",
    "bad_start": "Start from {starts}, not {value}.",
    "setting_range": "The {setting} must be between {low} and {high}, got {value}.",
    "setting_whole": "The {setting} must be a whole number, got {value}.",
    "setting_epochs": "number of epochs",
    "setting_batch_size": "batch size",
    "setting_lr": "learning rate",
    "setting_train_size": "training-set size",
    "no_own_model": ("This session has no {kind} of its own yet: train one from a fresh model first, or load one on "
                     "the Train tab."),
    "one_training": ("You already have a training running or waiting; stop it, or wait for it to end, before you "
                     "start another."),
    "line_full": "{n} visitors are already waiting to train; try again in a few minutes.",

    # Model tab (demo/model_tab.py)
    "model_help": """The two models behind the other tabs, **as this session runs them**: each distribution's formula as Pixyz
prints it from the live object, the code that defines it, the networks inside, and the write-up's figures beside
the same figures made by the model in use. Pixyz's point: the code reads like the formulas.""",
    "model_title_generator": "Model 1 — draws a digit: p(x|z,y)",
    "model_title_classifier": "Model 2 — reads a digit: p(y|x,z)",
    "role_generator_q": ("**The encoder** (inference model): a Normal over the style z, its mean and scale computed by "
                         "a network from the image x and its digit y."),
    "role_generator_p": ("**The decoder** (generative model): one Bernoulli per pixel of x, its probability drawn by a "
                         "network from the style z and the digit y."),
    "role_classifier_q": ("**The encoder**: a Normal over z, computed from the image x and its digit y, trained with p. "
                          "Since x nearly always tells y, z carries little, and model 2's answers draw z from the prior "
                          "instead."),
    "role_classifier_p": ("**The reader**: a Categorical over the ten digits y, computed by a network from the image x "
                          "and a z."),
    "role_prior": ("**The prior**: the standard Normal N(0, I) over the {z_dim} numbers of z. New digits start from a z "
                   "drawn from it, and so do model 2's answers."),
    "the_shipped_model_id": "the shipped model (`{id}`)",
    "your_model_run": "your model (run `{id}`)",
    "about_model1": "- **Model 1** (generator): {name}",
    "about_model2": "- **Model 2** (classifier): {name}",
    "about_mine": ("Your model (trained, loaded or uploaded on the Train tab) is in use through *Use in this session*; "
                   "the Generate and Draw tabs run on it too."),
    "about_shipped": "Train your own on the Train tab and choose *Use in this session*: this tab will then describe it.",
    "about_heading": "**This tab describes the models this session uses:**",
    "same_formula": "prints the same formula",
    "prints_formula": "prints `{formula}`",
    "loss_role": ("**The loss**: minus the ELBO, averaged over a batch. The ELBO bounds the data's log-likelihood from "
                  "below,\n\n$$\n{bound}\n$$\n\nso minimising KL − E[log p] pushes that bound up: the expectation "
                  "rewards explaining the data, the KL keeps q close to the prior. (The trainer's one-pass version of "
                  "it, `cvae.fastpath.OnePassELBO`, {trainer}.)"),
    "networks_summary": ("Architecture **{arch}**, latent z of **{z_dim}** numbers, hidden width {hidden}; **{total}** "
                         "parameters: q(z|x,y) {q}, {p_text} {p}, the prior p(z) none (N(0, I) is fixed)."),
    "layer_header": "| layer | | parameters |",
    "no_bias": ", no bias",
    "channels": "channels",
    "stride": ", stride {s}",
    "trained_with": "Trained with `{command}` ({epochs} epochs on {data} MNIST, {minutes} min on {device}).",
    "trained_on_tab": "Trained on the Train tab: {seconds} s, {steps} steps on {data} MNIST",
    "stopped_early_end": ", stopped early.",
    "full_stop": ".",
    "data_full": "full",
    "data_sample": "sample",
    "metric_test_loss": "test loss (negative ELBO) **{loss}** nats",
    "metric_test_accuracy": "test accuracy **{accuracy} %**",
    "metric_train_accuracy": "train accuracy {accuracy} %",
    "after_epoch": "after epoch {epoch}",
    "at_the_end": "at the end",
    "reached": "Reached {where}: {figures}.",
    "no_metrics": "*These weights came without metrics.*",
    "plot_writeup": "write-up recipe (mlp)",
    "plot_train": "{name}, train",
    "plot_test": "{name}, test",
    "plot_epoch": "epoch",
    "plot_accuracy": "accuracy (z from the prior)",
    "plot_title": "Model 2: accuracy per epoch",
    "plot_shipped": "shipped classifier",
    "plot_yours": "your classifier",
    "same_z_writeup": "the write-up's very z (64 draws of 64 numbers, torch seed 0)",
    "same_z_shorter": ("the write-up's 64 draws (torch seed 0) cut to their first {z_dim} numbers: this z has {z_dim} "
                       "dimensions, the write-up's 64, so “the same z” can only mean the same draws, not the same "
                       "points, and the same place in z does not mean the same style in two models trained apart"),
    "same_z_longer": ("the write-up's 64 draws (torch seed 0), each given {more} more numbers: this z is longer than "
                      "the write-up's"),
    "labels_from_mnist": "their digits from MNIST's test set",
    "labels_read": ("{read} of their 32 digits read by the shipped model 2, as full MNIST is not on disk to look them "
                    "up"),
    "plot_note_json": "{name}, from its JSON",
    "plot_note_shipped": ("the shipped classifier, from its JSON ({name} in use has no per-epoch accuracy: the Train tab "
                          "measures it at the end; see the networks above)"),
    "writeup_recipe": ("the write-up's recipe (<code>python -m cvae reproduce</code>: the mlp, 10 epochs on full "
                       "MNIST)"),
    "fig_samples_heading": "64 samples of a 5",
    "fig_after_1": "After 1 epoch of {recipe}.",
    "fig_after_10": "After 10 epochs of the write-up's recipe.",
    "fig_samples_yours": "Model 1 in use, {name}: z from {same_z}.",
    "fig_recon_heading": "Reconstructions: originals on top, reconstructions under them",
    "fig_recon_1": "The write-up's recipe after 1 epoch.",
    "fig_recon_10": "The write-up's recipe after 10 epochs.",
    "fig_recon_yours": ("Model 1 in use, {name}: the same originals (MNIST's first 32 test digits, read back from the "
                        "write-up's figure; {labels}); z drawn from q(z|x,y) with seed 0."),
    "fig_accuracy_heading": "Model 2: accuracy per epoch (z from the prior)",
    "fig_accuracy_writeup": "The write-up's recipe (results/reproduce/).",
    "fig_accuracy_both": "The write-up's recipe (grey) and {note} (blue).",
    "mean": "mean",
    "answer_moves": "The answer is {top} for {agree} of the {n} draws of z{all}; its probability moves between {low} % and {high} % with z.",
    "all_of_them": " — all of them",
    "predictor_caption": "p(y|x,z) in %, for {n} z drawn from the prior p(z)",
    "mean_row": "The mean row is what the Draw tab reports: it averages the same {n} draws.",
    "your_last_drawing": "Your last drawing (as model 2 sees it, 28 × 28)",
    "test_digit_z_matters": ("MNIST test digit #{index}, labelled {digit}: one of the {top} of the first {pool} test "
                             "digits whose answer moves most with z"),
    "test_digit_labelled": "MNIST test digit #{index}, labelled {digit}",
    "nothing_drawn": " — nothing drawn yet on the Draw tab",
    "model2_in_use": "Model 2 in use: {name}.",
    "networks_heading": "### The networks",
    "figures_heading": "### The write-up's figures beside the model in use's",
    "predictor_heading": ("### Model 2 as a predictor\nA generative model can predict: p(y|x,z) for one picture and "
                          "several z drawn from the prior shows how much the answer moves with the style z."),
    "my_last_drawing": "My last drawing",
    "random_test_digit": "A random test digit",
    "z_matters_digit": "A test digit where z matters",
}

JA = {
    # The page
    "page_title": "条件付きVAE · MNIST",
    "intro": """
# ✍️ MNISTの条件付きVAE
<p>2つの条件付きVAE：<b>生成モデル1</b> は数字 <i>y</i> をスタイル <i>z</i> で描きます — p(x | z, y)。
<b>生成モデル2</b> は数字を読み取ります — p(y | x, z)。スタイルを動かしたり、自分で数字を描いたり、モデルを学習させたりしてみてください。</p>
""",
    "tab_generate": "生成",
    "tab_draw": "手書き",
    "tab_train": "学習",
    "tab_model": "モデル",

    # Generate tab
    "generate_help": """数字を選び、スライダーを動かしてください。スライダーの1本1本が潜在変数 **z** の1つの次元で、
動かすたびに画像が描き直されます。数字は変わりません — z が表すのは *スタイル*（傾き・太さ・幅）だけです。""",
    "digit_y": "数字 y",
    "random_z": "ランダムな z",
    "zero_z": "z をゼロに",
    "more_z": "スタイルの次元をもっと",
    "model1_draws": "生成モデル1 が描いた画像",
    "z_as_every_digit": "この z で描いた全ての数字",
    "download_png": "PNGをダウンロード",
    "samples_64": "この数字の64サンプル（z は標準正規分布から）",
    "new_samples": "別のサンプル",
    "morph_frames": "モーフィング（10コマ）",
    "morph_into": "モーフィング先の数字",
    "morph_digit": "数字 → 数字 のモーフィング",
    "morph_z": "z → ランダムな z のモーフィング",

    # Draw tab
    "draw_help": """マウス・指・ペンでパッドに数字を描いてください。生成モデル2 がひと筆ごとに読み取り、実際に見た
28 × 28 の画像を表示します。生成モデル1 はセカンドオピニオンを出します（どの数字の生成モデルがあなたの手書き文字画像を
最もよく説明するか、そもそも説明できるか：星や W を描いてみてください）。生成モデル1 のエンコーダは手書き文字画像を
スタイル z に変え、10個すべての数字として描き直します。**元に戻す**・**やり直す**・**消す** はパッドの下、
生成モデル2 の答えの横にあります（Ctrl+Z も使えます）。数字の写真をアップロードすることもできます。""",
    "clear": "消す",
    "upload_digit": "…または数字の画像をアップロード",
    "pad_label": "描画パッド：数字を描いてください",
    "pad_undo": "元に戻す",
    "pad_undo_title": "元に戻す（Ctrl+Z）",
    "pad_redo": "やり直す",
    "pad_redo_title": "やり直す（Ctrl+Y）",
    "pad_clear_title": "パッドを消す",
    "pad_answer_title": "生成モデル2 の答え",
    "reading_wait": "読み取り中…",
    "badge_model2": "生成モデル2：",
    "badge_guess": "（推測）",
    "draw_a_digit": "数字を描いてください",
    "not_a_drawing": "手書き文字画像を読み取れませんでした。パッドを消して描き直してください。",
    "not_a_drawing_because": "手書き文字画像を読み取れませんでした（{reason}）。パッドを消して描き直してください。",
    "blank_picture": "画像が空白です：判定する手書き文字がありません。",
    "drawing_pad_sides": "パッドの一辺は {low}〜{high} px にしてください",
    "drawing_brush": "ブラシの幅は {brush} px までです",
    "drawing_points": "ストロークは {strokes} 本まで、点は {points} 個までです",
    "drawing_numbers": "ストロークは整数の点 x,y の並びでなければなりません",
    "drawing_ink": "インクの量がパッド全体を {times} 回横切る長さを超えています",
    "source_drawing": "手書き文字画像",
    "source_upload": "アップロード画像",
    "model2_reads": "生成モデル2 によるあなたの{source}の読み取り",
    "only_a_guess": "推測にすぎません",
    "model1_reads": "生成モデル1（生成モデルとベイズの定理による）の読み取り",
    "model1_detail": "（{named}；最良の −ELBO {best} nats）",
    "not_a_digit": ("生成モデル1 には数字に見えません：10個のどの数字でもあなたの{source}を説明できません"
                    "（最良の −ELBO {best} nats、しきい値 {threshold} を超えています）。生成モデル2 は必ず何かの数字を"
                    "答えるので、その答えは推測です。"),
    "both_say": "2つのモデルはどちらも {digit} と答えています。",
    "models_disagree": "2つのモデルの答えが違います：生成モデル2 は {model2}、生成モデル1 は {model1} と答えています。",
    "no_threshold": ("この生成モデル1 には較正したしきい値がない（しきい値なしで学習された）ため、"
                     "「数字かどうか」の判定はしません。"),
    "seen_alt": "生成モデル2 が見た 28 x 28 の画像",
    "seen_caption": "生成モデル2 が見た画像（28 × 28）",
    "style_alt": "あなたのスタイルで描いた全ての数字",
    "style_caption": "あなたのスタイルで描いた全ての数字（生成モデル1、z はエンコーダから）",
    "upload_unusable": "このアップロードは使えません：{reason}。",
    "image_unusable": "この画像は使えません：{reason}。",

    # Train tab
    "train_help": """自分のモデルを学習させ、学習していく様子を見てください。既定の設定なら、新しい **生成モデル1** は1分以内に
どの数字もそれとわかるように描けるようになり、新しい **生成モデル2** はテスト画像の約99 %を正しく読み取ります。
いつでも一時停止・再開でき、**停止** してもそれまでに学習した分は残ります。その後、このセッションで使う（生成タブと
手書きタブがそのモデルで動きます）、配布モデルと比べる、保存する、ダウンロードする、さらに学習させる、ができます。
このサーバーで同時に動く学習は1つだけで、他の訪問者は配布モデルを使い続けます。""",
    "kind_generator": "生成モデル1",
    "kind_classifier": "生成モデル2",
    "model": "モデル",
    "start_from": "学習の出発点",
    "start_fresh": "新しいモデル",
    "start_shipped": "配布モデル",
    "start_yours": "あなたのモデル",
    "train_for": "学習時間",
    "budget_30s": "30 秒",
    "budget_1min": "1 分",
    "budget_5min": "5 分",
    "budget_epochs": "N エポックまで",
    "epochs_n": "エポック数（N）",
    "train_settings": "バッチサイズ・学習率・学習画像の数",
    "batch_size": "バッチサイズ",
    "peak_lr": "最大学習率",
    "training_images": "学習画像の数",
    "start_training": "学習を開始",
    "pause": "一時停止",
    "resume": "再開",
    "stop": "停止",
    "not_started": "まだ始まっていません。",
    "step": "ステップ",
    "curve_train": "学習データ",
    "curve_test": "テストデータ",
    "loss_y": "画像1枚あたりの負の ELBO",
    "loss_title": "損失：学習データ、および数秒ごとのテストデータ",
    "loss_empty": "損失の曲線：学習データ、および数秒ごとのテストデータ（学習が始まると表示されます）",
    "samples_now": "現在のサンプル：行ごとに1つの z、列ごとに1つの数字（z はずっと同じ。学習が始まると表示されます）",
    "test_accuracy_title": "テストデータでの精度",
    "accuracy_empty": "テストデータでの精度（学習開始から数秒後、最初のテストの後に表示されます）",
    "confusion_label": "テスト画像での混同行列（行：正しい数字、列：読み取った数字）",
    "your_model_heading": "### あなたのモデル",
    "use_in_session": "このセッションで使う",
    "compare_shipped": "配布モデルと比べる",
    "download_zip": "ダウンロード（.zip）",
    "save_runs": "runs/ に保存",
    "shipped_vs_yours": "配布モデル と あなたのモデル",
    "load_or_upload": "保存した学習結果を読み込む、またはモデルをアップロード",
    "saved_runs": "保存した学習結果",
    "refresh": "更新",
    "load_as_yours": "あなたのモデルとして読み込む",
    "upload_model": "…または NAME.safetensors と NAME.json（またはこのページでダウンロードした .zip）をアップロード",
    "use_shipped": "配布モデルを使う",
    "waiting": "他の訪問者の学習が終わるのを待っています…",
    "waiting_place": "他の訪問者の学習が終わるのを待っています：{where}{left}。",
    "you_are_next": "次はあなたの番です",
    "one_ahead": "あなたの前に1人います",
    "many_ahead": "あなたの前に{n}人います",
    "time_left": "、実行中の学習の残りは約{duration}",
    "minutes_seconds": "{minutes} 分 {seconds} 秒",
    "seconds": "{seconds} 秒",
    "left_the_line": "順番待ちをやめました：何も学習していません。",
    "training_loading": "データを読み込み、{kind}を組み立てています…",
    "training_failed": "**学習に失敗しました：** {error}",
    "where_step": "ステップ {step} · エポック {epoch}",
    "where_start": "開始時点",
    "speed": " · {speed} 画像/秒",
    "loss_now": " · 損失 {loss}",
    "clock_budget": "{seconds} 秒 / {budget} 秒",
    "clock_epochs": "{seconds} 秒、{epochs} エポックの {percent} %",
    "eta": " · 残り約 {eta} 秒",
    "training_running": "**{kind}を学習中：** {clock} · {where}{speed}{loss}{eta}",
    "training_paused": ("**一時停止中**（{where}、{clock}）。モデル・オプティマイザ・曲線は保持されています："
                        "いつでも再開できます。"),
    "training_measuring": "10,000枚のテスト画像で{kind}を**評価中**…",
    "final_test_loss": "テストデータでの損失 {loss}",
    "final_test_accuracy": "、テストデータでの精度 {accuracy} %",
    "finished": "完了",
    "stopped_at": "{where}で停止しました。それまでに学習した分は残ります",
    "time_limit": "（このサーバーでは1回の学習は最長 {limit} です）",
    "training_ended": "**{ended}**（学習時間 {seconds} 秒）：{figures}。下の *あなたのモデル* になりました。",
    "starting": "開始します：{start}（{kind}）…",
    "no_model_yet": "*あなたのモデルはまだありません：学習させるか、下で読み込んでください。*",
    "your_model_is": "**あなたのモデル**：{kind}（`{origin}`）",
    "a_model": "モデル",
    "trained_for": "{seconds} 秒、{steps} ステップ",
    "stopped_early": "、途中で停止",
    "summary_accuracy": "テストデータでの精度 {accuracy} %",
    "summary_loss": "テストデータでの損失 {loss}",
    "in_use": "このセッションで使用中",
    "not_in_use": "まだ使っていません",
    "z_mismatch": ("この生成モデル1 の z は {z_dim} 次元ですが、このページのスライダーは {page_z_dim} 次元です。"
                   "保存とダウンロードはできます。"),
    "no_model_to_use": "使えるあなたのモデルがまだありません。",
    "now_uses": "このセッションはあなたの{kind}を使っています：生成タブと手書きタブがそのモデルで動きます。",
    "saved_as": "サーバーの runs フォルダに `{file}`（と `.json`）として保存しました。",
    "no_model_to_compare": "比べるあなたのモデルがまだありません。",
    "compare_generators": "同じ3つの z で描いた全ての数字：上が **配布モデル**、下が **あなたのモデル** です。",
    "row_shipped": "配布",
    "row_yours": "あなた",
    "the_shipped_classifier": "配布モデルの生成モデル2",
    "your_classifier": "あなたの生成モデル2",
    "last_drawing_read": "- あなたが最後に描いた数字：{name}の読み取りは **{digit}**（{percent} %）",
    "draw_to_compare": "- 手書きタブで数字を描くと、両方の読み取りを比べられます。",
    "drawn_set_read": "- MNISTではない手書き数字 {n} 個：{name}の正解率は **{percent} %**",
    "run_name_hint_generator": "学習結果の名前（例：my-generator）",
    "run_name_hint_classifier": "学習結果の名前（例：my-classifier）",
    "full_mnist": "学習データ：MNIST全体（{n} 枚）。",
    "nothing_training": "あなたの学習は動いていません。",
    "stopping": "停止します：モデルはそれまでに学習した分を保持します。",
    "loaded_run": "{choice} をあなたのモデルとして読み込みました。",
    "uploaded_is_yours": "アップロードした{kind}があなたのモデルになりました。",

    # Which models a session runs on (demo/shared.py)
    "session_uses_shipped": "このセッションで使うモデル：**生成モデル1**：配布モデル · **生成モデル2**：配布モデル",
    "session_uses": "このセッションで使うモデル：{parts}",
    "session_part": "**{kind}**：{which}",
    "shipped": "配布モデル",
    "your_run": "あなたの学習結果 `{run}`",
    "runs_on_shipped_generator": "使用中のモデル：**生成モデル1**：配布モデル",
    "runs_on_shipped_classifier_generator": "使用中のモデル：**生成モデル2**：配布モデル · **生成モデル1**：配布モデル",
    "runs_on": "使用中のモデル：{parts}",
    "runs_on_part": "**{name}**：{which}",
    "model_name_generator": "生成モデル1",
    "model_name_classifier": "生成モデル2",
    "the_shipped_one": "配布モデル",
    "your_run_bold": "**あなたの** 学習結果 `{run}`",
    "sample_notice": ("MNIST全体が見つからず、ダウンロードもできませんでした：同梱の本物のMNISTのサンプル"
                      "（学習画像 {train} 枚、テスト画像 {test} 枚）を使います。結果はMNIST全体での結果とは比べられません。"),

    # Explore the latent space (Generate tab, demo/explore.py)
    "explore_help": """### 潜在空間を探る
条件付きVAEでは、**z はスタイル、y は数字** です。同じ z で別の数字を書くと、傾き・幅・筆致はそのまま残ります。
**マップをクリック** すると2本のスライダーが一度に動きます。**チャート** は各スライダーの働きを示します
（1行が潜在変数 z の1つの次元で −3 から +3 まで、他の次元は現在の値のまま。オレンジの枠が現在の位置です）。
**本物の数字** を z に入れてから上の数字を変えると、同じ筆跡で別の数字が書かれます。""",
    "scatter_help": ("各点は1つの手書き文字画像のスタイル（q(z|x,y) の平均）で、数字ごとに色分けしています。"
                     "マゼンタの輪が現在の z です。色は重なり合います：数字の情報は z ではなく y にあります。"),
    "where_digits_live": "**数字の分布**：潜在変数 z の中の MNIST テスト画像 {n} 枚。{help}",
    "you_are_here": "現在の z",
    "overlap": ("各点の近傍 {k} 点の多数決で数字を当てると、z{x} と z{y} からはこの {n} 枚のテスト画像の "
                "**{in_two}**、z の全 {z_dim} 次元からは **{in_all}** が正解します。当てずっぽうなら 10 % です。"),
    "latent_map": "潜在空間のマップ：クリックで2本のスライダーを動かす",
    "across": "横軸（左 −3、右 +3）",
    "up": "縦軸（下 −3、上 +3）",
    "preselected": ("初期選択：z{x} と z{y}。画像を最も大きく変える2つの次元です（各次元を −2 から +2 まで動かして"
                    "測定）。"),
    "what_each_slider_does": "各スライダーの働き",
    "load_real_digit": "本物の MNIST の数字を読み込む",
    "use_my_drawing": "自分の手書き文字画像を使う",
    "the_real_digit": "本物の数字",
    "your_drawing": "あなたの手書き文字画像",
    "reconstruction": "生成モデル1 による再構成画像",
    "real_note_empty": "本物の数字、または手書きタブで描いた数字を読み込むと、そのスタイルを z で見られます。",
    "test_digit_note": ("MNIST テスト画像 #{i}、数字は **{digit}**。そのスタイル z（q(z|x,y) の平均）をスライダーに"
                        "入れました：上で別の数字を選ぶと、同じ筆跡で書かれます。"),
    "drawing_note": ("あなたの手書き文字画像（生成モデル2 の読み取りは **{digit}**）。そのスタイル z をスライダーに"
                     "入れました：上で別の数字を選ぶと、あなたの筆跡で書かれます。"),
    "draw_first": "まず手書きタブで数字を描いてから、戻ってもう一度押してください。",
    "drawing_not_a_digit": ("生成モデル1 には数字に見えません：10 個の数字のどれもあなたの絵をうまく説明しません"
                            "（最良の −ELBO は {best} nats で、しきい値 {threshold} を超えています）。ここから取った"
                            "スタイル z は推測です。"),
    "link_label": "この画像へのリンク",
    "where_digits_live_title": "数字の分布",
    "run_name": "学習結果の名前",
    "press_copy_link": "「リンクをコピー」を押してください",
    "copy_link": "リンクをコピー",
    "pick_dimension": "z の次元は z1 から z{z_dim} の中から選んでください（送られた値：{value}）。",
    "two_dimensions": "マップには異なる2つの z の次元を選んでください。",
    "click_the_map": "マップをクリックして点を選んでください。",

    # Messages about saved runs, uploads and trainings (demo/runs.py, demo/training.py, demo/handlers.py)
    "run_name_rule": ("学習結果の名前には英字・数字・'-'・'_'・'.' を使ってください（64文字まで、先頭は英字か数字）。"
                      "例：my-generator-3-epochs"),
    "no_key": ("このページには保存した学習結果のための有効なキーがありません：ページを再読み込みしてください"
               "（キーはブラウザに保存されます。このサイトのデータ保存を許可してください）。"),
    "nothing_to_save": "保存できる学習済みモデルがまだありません。",
    "not_into_shipped": "学習結果は runs フォルダに保存されます。配布モデルの重みには保存しません。",
    "run_exists": "{name} という名前の学習結果はすでにあります。別の名前にしてください。",
    "too_many_runs": ("保存した学習結果が {runs} 個あり、このサーバーで1人が保存できる上限です。代わりにこのモデルを"
                      "ダウンロードしてください（zip はアップロードで戻せます）。"),
    "over_quota": ("この学習結果（{size} MB）を保存すると、1人が保存できる上限の {limit} MB を超えます（使用中 {used} MB）。"
                   "代わりにこのモデルをダウンロードしてください（zip はアップロードで戻せます）。"),
    "runs_folder_full": ("サーバーの runs フォルダがいっぱいで、今は保存できません。代わりにモデルをダウンロードして"
                         "ください（アップロードで戻せます）。"),
    "saves_per_hour": ("この1時間にあなたのアドレスから {saves} 個の学習結果が保存され、このサーバーの上限です。"
                       "{minutes} 分後にもう一度試すか、代わりにこのモデルをダウンロードしてください（zip はアップロードで戻せます）。"),
    "address_quota": ("あなたのアドレスから保存された学習結果は {used} MB あり、この学習結果（{size} MB）を加えると1つのアドレスの"
                      "上限 {limit} MB を超えます。代わりにこのモデルをダウンロードしてください（zip はアップロードで戻せます）。"),
    "pick_a_run": "一覧から保存した学習結果を選んでください（空なら更新してください）。",
    "run_unloadable": "その学習結果は読み込めません：{fault}。",
    "upload_two_files": "モデルは NAME.safetensors と NAME.json の2ファイル（またはこのページでダウンロードした .zip）でアップロードしてください。",
    "upload_too_large": "このデモのモデルとしてはファイルが大きすぎます（最大 {mb} MB）。",
    "model_unusable": "そのモデルは使えません：{fault}。",
    "zip_pair": "zip には .safetensors と .json のファイルを1つずつ入れてください。",
    "zip_method": ("zip のファイルはこのページで読めない方式で圧縮されています。このページでダウンロードした zip か、"
                   "通常の（deflate の）zip を使ってください。"),
    "zip_too_large": "このデモのモデルとしては zip のファイルが大きすぎます（最大 {mb} MB、JSON は 1 MB）。",
    "zip_member_too_large": "このデモのモデルとしては zip の {suffix} ファイルが大きすぎます（展開後 最大 {mb} MB）。",
    "zip_unreadable": "その zip は読めません（{reason}）。",
    "model_kind": "モデルは {kinds} のいずれかにしてください（送られた値：{value}）。",
    "budget_kind": "学習時間は {budgets} のいずれかにしてください（送られた値：{value}）。",
    "bad_start": "学習の出発点は {starts} のいずれかにしてください（送られた値：{value}）。",
    "setting_range": "{setting}は {low} から {high} の間にしてください（送られた値：{value}）。",
    "setting_whole": "{setting}は整数にしてください（送られた値：{value}）。",
    "setting_epochs": "エポック数",
    "setting_batch_size": "バッチサイズ",
    "setting_lr": "学習率",
    "setting_train_size": "学習画像の数",
    "no_own_model": ("このセッションにはまだあなたの{kind}がありません：まず新しいモデルから学習させるか、学習タブで"
                     "読み込んでください。"),
    "one_training": "あなたの学習がすでに実行中か順番待ちです。停止するか、終わるのを待ってから次を始めてください。",
    "line_full": "すでに {n} 人が学習の順番を待っています。数分後にもう一度試してください。",

    # Model tab (demo/model_tab.py)
    "model_help": """他のタブで動いている2つのモデルを、**このセッションで動いているそのままの姿で** 示します：各分布の数式を
Pixyz が実際のオブジェクトから出力したもの、それを定義するコード、中のネットワーク、そして記事の図と、使用中のモデルで
作った同じ図です。Pixyz のねらいは、コードが数式のように読めることです。""",
    "model_title_generator": "生成モデル1 — 数字を描く：p(x|z,y)",
    "model_title_classifier": "生成モデル2 — 数字を読み取る：p(y|x,z)",
    "role_generator_q": ("**エンコーダ**（推論モデル）：スタイル z 上の正規分布。平均とスケールは、画像 x とその数字 y "
                         "からネットワークで計算します。"),
    "role_generator_p": ("**デコーダ**（生成モデル）：x の画素ごとに1つのベルヌーイ分布。その確率は、スタイル z と数字 y "
                         "からネットワークで計算します。"),
    "role_classifier_q": ("**エンコーダ**：z 上の正規分布。画像 x とその数字 y から計算し、p と一緒に学習します。"
                          "x からほぼ必ず y が分かるので z が担う情報は少なく、生成モデル2 の答えでは z を事前分布から"
                          "引きます。"),
    "role_classifier_p": "**読み取り部**：10個の数字 y 上のカテゴリカル分布。画像 x と z からネットワークで計算します。",
    "role_prior": ("**事前分布**：z の {z_dim} 個の数値上の標準正規分布 N(0, I)。新しい数字はここから引いた z から"
                   "描かれ、生成モデル2 の答えも同じです。"),
    "the_shipped_model_id": "配布モデル（`{id}`）",
    "your_model_run": "あなたのモデル（学習結果 `{id}`）",
    "about_model1": "- **生成モデル1**：{name}",
    "about_model2": "- **生成モデル2**：{name}",
    "about_mine": ("あなたのモデル（学習タブで学習・読み込み・アップロードしたもの）を *このセッションで使う* で使用中です。"
                   "生成タブと手書きタブもそのモデルで動きます。"),
    "about_shipped": "学習タブで自分のモデルを学習させ、*このセッションで使う* を選ぶと、このタブはそのモデルを説明します。",
    "about_heading": "**このタブは、このセッションで使っているモデルを説明します：**",
    "same_formula": "同じ数式を出力します",
    "prints_formula": "`{formula}` を出力します",
    "loss_role": ("**損失**：ELBO の符号を反転してバッチで平均したもの。ELBO はデータの対数尤度の下界です。"
                  "\n\n$$\n{bound}\n$$\n\nKL − E[log p] を最小化するとこの下界が上がります：期待値の項はデータを"
                  "うまく説明すると良くなり、KL の項は q を事前分布の近くに保ちます。（学習で使う1パス版 "
                  "`cvae.fastpath.OnePassELBO` も{trainer}。）"),
    "networks_summary": ("アーキテクチャ **{arch}**、潜在変数 z は **{z_dim}** 個の数値、隠れ層の幅 {hidden}。"
                         "パラメータ数 **{total}**：q(z|x,y) {q}、{p_text} {p}、事前分布 p(z) はなし（N(0, I) で固定）。"),
    "layer_header": "| 層 | | パラメータ数 |",
    "no_bias": "、バイアスなし",
    "channels": "チャンネル",
    "stride": "、ストライド {s}",
    "trained_with": "`{command}` で学習（{data}で {epochs} エポック、{device} で {minutes} 分）。",
    "trained_on_tab": "学習タブで学習：{seconds} 秒、{data}で {steps} ステップ",
    "stopped_early_end": "、途中で停止。",
    "full_stop": "。",
    "data_full": "MNIST全体",
    "data_sample": "MNISTのサンプル",
    "metric_test_loss": "テストデータでの損失（負の ELBO）**{loss}** nats",
    "metric_test_accuracy": "テストデータでの精度 **{accuracy} %**",
    "metric_train_accuracy": "学習データでの精度 {accuracy} %",
    "after_epoch": "{epoch} エポック後",
    "at_the_end": "学習の終わり",
    "reached": "{where}の結果：{figures}。",
    "no_metrics": "*この重みには評価値が付いていません。*",
    "plot_writeup": "記事のレシピ（mlp）",
    "plot_train": "{name}、学習データ",
    "plot_test": "{name}、テストデータ",
    "plot_epoch": "エポック",
    "plot_accuracy": "精度（z は事前分布から）",
    "plot_title": "生成モデル2：エポックごとの精度",
    "plot_shipped": "配布モデルの生成モデル2",
    "plot_yours": "あなたの生成モデル2",
    "same_z_writeup": "記事とまったく同じ z（64個の数値を64回、torch のシード 0）",
    "same_z_shorter": ("記事の64回の z（torch のシード 0）の最初の {z_dim} 個の数値：この z は {z_dim} 次元で記事は64次元"
                       "なので、「同じ z」は同じ点ではなく同じ乱数列という意味にしかならず、別々に学習した2つのモデルでは"
                       "z の同じ位置が同じスタイルを意味するわけでもありません"),
    "same_z_longer": "記事の64回の z（torch のシード 0）に {more} 個の数値を足したもの：この z は記事のものより長いです",
    "labels_from_mnist": "数字は MNIST のテストセットから",
    "labels_read": "MNIST全体がディスクになく調べられないため、32個のうち {read} 個の数字は配布モデルの生成モデル2 による読み取り",
    "plot_note_json": "{name}、その JSON から",
    "plot_note_shipped": ("配布モデルの生成モデル2、その JSON から（使用中の {name} にはエポックごとの精度がありません："
                          "学習タブでは最後にだけ測ります。上のネットワークを参照）"),
    "writeup_recipe": "記事のレシピ（<code>python -m cvae reproduce</code>：mlp、MNIST全体で10エポック）",
    "fig_samples_heading": "数字 5 の64サンプル",
    "fig_after_1": "{recipe}で1エポック後。",
    "fig_after_10": "記事のレシピで10エポック後。",
    "fig_samples_yours": "使用中の生成モデル1、{name}：z は{same_z}。",
    "fig_recon_heading": "再構成画像：上が元の画像、その下が再構成画像",
    "fig_recon_1": "記事のレシピで1エポック後。",
    "fig_recon_10": "記事のレシピで10エポック後。",
    "fig_recon_yours": ("使用中の生成モデル1、{name}：同じ元の画像（MNIST の最初の32個のテスト画像を記事の図から"
                        "読み戻したもの。{labels}）。z はシード 0 で q(z|x,y) から引いています。"),
    "fig_accuracy_heading": "生成モデル2：エポックごとの精度（z は事前分布から）",
    "fig_accuracy_writeup": "記事のレシピ（results/reproduce/）。",
    "fig_accuracy_both": "記事のレシピ（灰色）と{note}（青）。",
    "mean": "平均",
    "answer_moves": "{n} 回引いた z のうち {agree} 回で答えは {top}{all}。その確率は z によって {low} % から {high} % の間で動きます。",
    "all_of_them": " — すべてです",
    "predictor_caption": "事前分布 p(z) から引いた {n} 個の z についての p(y|x,z)（%）",
    "mean_row": "平均の行が手書きタブの答えです：同じ {n} 回の z で平均しています。",
    "your_last_drawing": "あなたが最後に描いた手書き文字画像（生成モデル2 が見た 28 × 28）",
    "test_digit_z_matters": ("MNIST テスト画像 #{index}、正解は {digit}：最初の {pool} 個のテスト画像のうち、z によって"
                             "答えが最も動く {top} 個の1つ"),
    "test_digit_labelled": "MNIST テスト画像 #{index}、正解は {digit}",
    "nothing_drawn": " — 手書きタブではまだ何も描かれていません",
    "model2_in_use": "使用中の生成モデル2：{name}。",
    "networks_heading": "### ネットワーク",
    "figures_heading": "### 記事の図と、使用中のモデルの図",
    "predictor_heading": ("### 予測器としての生成モデル2\n生成モデルは予測にも使えます：1枚の画像について、事前分布から"
                          "引いたいくつかの z で p(y|x,z) を見ると、答えがスタイル z によってどれだけ動くかが分かります。"),
    "my_last_drawing": "最後に描いた数字",
    "random_test_digit": "ランダムなテスト画像",
    "z_matters_digit": "z で答えが動くテスト画像",
}

TEXTS = {"en": EN, "ja": JA}
LANGUAGES = tuple(TEXTS)
DEFAULT = "en"
# The page's own i18n: the static texts, looked up in the browser in the language the page is shown in.
I18N = gr.I18n(**TEXTS)


def static(key):
    """A static text for a component's label, value or choices: the page shows it in its own language."""
    if key not in EN:
        raise KeyError(f"no text {key!r} in demo/texts.py")
    return I18N(key)


def say(lang, key, **values):
    """The text `key` in `lang` (English when `lang` is not one of LANGUAGES), its placeholders filled."""
    text = TEXTS.get(lang, EN)[key]
    return text.format(**values) if values else text


def in_every_language(key):
    """HTML with the text in every language, each in a span of its `lang`; the page's stylesheet (EVERY_LANGUAGE_CSS)
    shows the one of the page's language. For answers too frequent to spend anything on the visitor's language
    (the Generate tab's picture, redrawn while a slider moves)."""
    return "".join(f'<span lang="{lang}">{texts[key]}</span>' for lang, texts in TEXTS.items())


EVERY_LANGUAGE_CSS = "".join(
    f'html[lang|="{lang}"] .every-language [lang]:not([lang="{lang}"]) {{ display: none; }}\n'
    for lang in LANGUAGES) + "".join(
    f'html:not([lang|="{lang}"]) .every-language [lang="{lang}"] {{ display: none; }}\n'
    for lang in LANGUAGES if lang != DEFAULT)


# Fonts with Japanese letters for the words the app draws into pictures (PIL's own font has none): Debian's
# fonts-noto-cjk (apt-get install fonts-noto-cjk; .ci/run installs it).
CJK_FONTS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
             "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc")


@functools.cache
def picture_font(lang, size=13):
    """A PIL font for words in `lang` drawn into a picture: None (PIL's default) for English; for Japanese, a Noto
    CJK font (its Japanese face), or PIL's default when none is installed (the words then show as boxes)."""
    if lang == DEFAULT:
        return None
    for path in CJK_FONTS:
        if Path(path).exists():
            for index in range(10):  # the collection's faces: the Japanese one
                try:
                    font = ImageFont.truetype(path, size, index=index)
                except OSError:
                    break
                if font.getname()[0].endswith(" JP"):
                    return font
    return None


def every_language(render):
    """HTML with `render(lang)` for every language, each in a span of its `lang`, of which the page shows its own
    (EVERY_LANGUAGE_CSS): for texts with figures laid out with the page, the same for every visitor."""
    return ('<span class="every-language">'
            + "".join(f'<span lang="{lang}">{render(lang)}</span>' for lang in LANGUAGES) + "</span>")


def for_script(*keys):
    """JavaScript that gives a component's script (js_on_load) these texts: `say(key)` in the page's language."""
    table = {lang: {key: TEXTS[lang][key] for key in keys} for lang in LANGUAGES}
    return (f"const TEXTS = {json.dumps(table, ensure_ascii=False)};\n"
            "const say = (key) => (TEXTS[(document.documentElement.lang || 'en').split('-')[0]] || TEXTS.en)[key];\n")


def language_of(request):
    """The visitor's language from an event's gr.Request: the page's `?lang=` (in its Referer), else the browser's
    first language (Accept-Language); English without a request (tests, scripts)."""
    if request is None:
        return DEFAULT
    headers = request.headers
    chosen = parse_qs(urlsplit(headers.get("referer", "")).query).get("lang")
    if chosen and chosen[-1] in TEXTS:
        return chosen[-1]
    first = headers.get("accept-language", "").split(",")[0].split(";")[0].strip().lower()
    return first.split("-")[0] if first.split("-")[0] in TEXTS else DEFAULT
