"""The Jinja2 template of ``reports/<experiment>/index.html`` (kept in Python so it ships with the package)."""

INDEX_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>xlt report: {{ experiment.name }}</title>
<style>
 body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 78em; padding: 0 1em; color: #222; }
 table { border-collapse: collapse; margin: 0.6em 0 1.4em; font-size: 0.9em; }
 th, td { border: 1px solid #ccc; padding: 0.25em 0.55em; text-align: right; }
 th { background: #f3f3f3; } td.left, th.left { text-align: left; }
 .failed { color: #a00; } .muted { color: #777; } code { font-size: 0.95em; }
 img { max-width: 100%; }
</style>
</head>
<body>
<h1>{{ experiment.name }}</h1>
{% if experiment.description %}<p>{{ experiment.description }}</p>{% endif %}
<p class="muted">Experiment file <code>{{ experiment.path }}</code>; run records in <code>{{ runs_dir }}</code>;
generated {{ generated }}. {{ counts.complete }} of {{ counts.total }} runs complete
{%- if counts.failed %}, <span class="failed">{{ counts.failed }} failed</span>{% endif %}
{%- if counts.pending %}, {{ counts.pending }} not run yet{% endif %}.</p>
{% if learning %}
<div class="degenerate">
<h2 class="failed">Runs that did not learn</h2>
<p>Their scores are in the tables below, but a comparison over runs that never left chance compares label
distributions, not conditions.</p>
<ul>{% for line in learning %}<li>{{ line }}</li>{% endfor %}</ul>
</div>
{% endif %}

<h2>Results</h2>
{% if tables %}
<p>Accuracy (%) per target, condition and language: mean ± standard deviation over seeds
(n = number of seeds); <em>avg</em> averages each run over its languages first.
English is the fine-tuning language; every other language is zero-shot.</p>
{% for table in tables %}
<h3>{{ table.target }} ({{ table.split }})</h3>
<table>
<tr><th class="left">condition</th><th class="left">kind</th><th class="left">intermediate</th><th>n</th>
{% for language in table.languages %}<th>{{ language }}</th>{% endfor %}</tr>
{% for row in table.rows %}
<tr><td class="left">{{ row.condition }}</td><td class="left">{{ row.kind }}</td><td class="left">{{ row.intermediate }}</td>
<td>{{ row.n }}</td>{% for cell in row.cells %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}
</table>
{% if table.plot %}<img alt="accuracy per language for {{ table.target }}" src="{{ table.plot }}">{% endif %}
{% endfor %}
{% else %}
<p class="muted">No completed phase-3 runs yet.</p>
{% endif %}

<h2>Significance</h2>
{% if significance.link %}<p><a href="{{ significance.link }}">Significance report</a>{% if significance.message %} — {{ significance.message }}{% endif %}</p>
{% else %}<p class="muted">{{ significance.message }}</p>{% endif %}
{% if significance.conclusions %}<ul class="conclusions">
{% for sentence in significance.conclusions %}<li>{{ sentence }}</li>
{% endfor %}</ul>{% endif %}

{% if failed %}
<h2 class="failed">Failed runs</h2>
<table>
<tr><th class="left">run</th><th class="left">what</th><th>seed</th><th class="left">error</th><th>cell</th></tr>
{% for run in failed %}
<tr><td class="left">{% if run.link %}<a href="{{ run.link }}">{{ run.run_id }}</a>{% else %}{{ run.run_id }}{% endif %}</td>
<td class="left">{{ run.what }}</td><td>{{ run.seed }}</td>
<td class="left failed"><code>{{ run.error }}</code></td><td>{{ run.cell if run.cell is not none else "" }}</td></tr>
{% endfor %}
</table>
{% endif %}

<h2>Runs</h2>
<table>
<tr><th class="left">run</th><th class="left">phase</th><th class="left">what</th><th>seed</th><th class="left">after</th>
<th class="left">state</th><th>avg acc.</th></tr>
{% for run in runs %}
<tr><td class="left">{% if run.link %}<a href="{{ run.link }}">{{ run.run_id }}</a>{% else %}{{ run.run_id }}{% endif %}</td>
<td class="left">{{ run.phase }}</td><td class="left">{{ run.what }}</td><td>{{ run.seed }}</td>
<td class="left">{{ run.parent or "" }}</td><td class="left{% if run.state == 'failed' %} failed{% endif %}">{{ run.state }}</td>
<td>{{ run.average }}</td></tr>
{% endfor %}
</table>
</body>
</html>
"""
