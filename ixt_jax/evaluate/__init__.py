"""Evaluation: sampling with a KV cache, task scores, run-directory evaluation and serving.

Entry points for other stages (import the module you need; this package imports nothing itself,
so the training loop can import `tasks` without pulling in the run-level evaluation):
  run_dir.load_run(run_dir)                       config, vocabulary, params sharded on a mesh
  run_dir.load_corpus(run)                        the held-out records the run kept (no corpus needed)
  sampling.Sampler(graphdef, vocab, mesh)         batched greedy / temperature / top-p decoding
  prompts.prompt_ids(vocab, settings, text, ...)  a critique-conditioned prompt, laid out as in training
  tasks.make_task_evaluator(c, vocab, ...)        (params) -> {"math_em", "code_pass1", ...}
  run_eval.evaluate_run(run_dir)                  eval.json and summary.json's task scores
  lm_eval_run.evaluate_lm_eval(run_dir, tasks)    lm-eval-harness tasks against the run served in-process
  openai_api.CompletionService(run, ...)          OpenAI-compatible completions, as vLLM serves them
  scoring.TokenScorer(graphdef, mesh)             log-probabilities of given token sequences
  prompts.condition_prompt_ids(vocab, settings, record, condition, sources)
                                                  a prompt under a condition (ixt_jax.data.conditions)
  steer.steer_run(run, positive_critique)         samples under each condition, judged: steer.json
  steer_set.measure(run_dirs, settings)           steer many runs, then endpoints.* (intervals)
  flawed_loss.flawed_line_rows(...)               the planted flaw's own line, scored under a condition
"""
