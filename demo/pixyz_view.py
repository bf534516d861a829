"""Pixyz's own view of a model, for the Model tab: what Pixyz prints for the joint p(.|.) p(z) and for the loss, and
the model's graph as Pixyz builds it (`DistGraph.visible_graph()`, a networkx DiGraph), drawn as an SVG picture."""
import html
import re

import networkx as nx

NODE_R = 26
COLUMN_GAP, ROW_GAP, MARGIN = 150, 90, 20


def joint_of(model):
    """The generative side as Pixyz composes it: p(x|z,y) p(z) for model 1, p(y|x,z) p(z) for model 2."""
    return model.p * model.prior


def pixyz_texts(model):
    """{"joint": p * prior's factorisation ("p(x,z|y) = p(x|z,y)p_{prior}(z)"), "loss": the loss's text (LaTeX),
    "inference": q's text}, as Pixyz prints them."""
    return {"joint": joint_of(model).prob_joint_factorized_and_text, "loss": model.loss.loss_text,
            "inference": model.q.prob_text}


def _plain(name):
    """A graph node's name without Pixyz's TeX dollars: "$z$" -> "z"."""
    return re.sub(r"^\$(.*)\$$", r"\1", name)


def _columns(graph):
    """Each node's column: 0 for the ones nothing points to, else one past the furthest of its parents."""
    column = {}
    for node in nx.topological_sort(graph):
        parents = list(graph.predecessors(node))
        column[node] = 1 + max(column[p] for p in parents) if parents else 0
    return column


def graph_svg(model, title="", observed=("x", "y")):
    """The joint's graph (Pixyz's visible_graph: an arrow from each conditioning variable to the variable it
    conditions) as an SVG: solid arrows the generative model p, dashed ones the inference model q(z|x,y); observed
    variables shaded. `title` is the picture's accessible name."""
    graph = nx.DiGraph()
    graph.add_edges_from((_plain(a), _plain(b)) for a, b in joint_of(model).graph.visible_graph().edges)
    column = _columns(graph)
    by_column = {}
    for node in sorted(graph, key=lambda n: (column[n], n)):
        by_column.setdefault(column[node], []).append(node)
    rows = max(len(nodes) for nodes in by_column.values())
    place = {}
    for c, nodes in by_column.items():
        top = (rows - len(nodes)) * ROW_GAP / 2
        for r, node in enumerate(nodes):
            place[node] = (MARGIN + NODE_R + c * COLUMN_GAP, MARGIN + NODE_R + top + r * ROW_GAP)
    width = MARGIN * 2 + NODE_R * 2 + (len(by_column) - 1) * COLUMN_GAP
    height = MARGIN * 2 + NODE_R * 2 + (rows - 1) * ROW_GAP
    q_edges = [(c, v) for v in model.q.var for c in model.q.cond_var if c in place and v in place]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="pixyz-graph" role="img" viewBox="0 0 {width} {height}"'
             f' width="{width}" height="{height}"><title>{html.escape(title)}</title>',
             '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
             'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker></defs>']
    for edges, dashed in ((list(graph.edges), False), (q_edges, True)):
        for a, b in edges:
            parts.append(_arrow(place[a], place[b], dashed, bend=dashed))
    for node, (x, y) in place.items():
        fill = "var(--neutral-300, #ccc)" if node in observed else "none"
        parts.append(f'<circle cx="{x:.0f}" cy="{y:.0f}" r="{NODE_R}" fill="{fill}" stroke="currentColor" '
                     f'stroke-width="2" class="node" data-node="{html.escape(node)}"/>'
                     f'<text x="{x:.0f}" y="{y + 7:.0f}" text-anchor="middle" font-size="22" font-style="italic" '
                     f'fill="currentColor">{html.escape(node)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _arrow(start, end, dashed, bend):
    """An arrow between two node circles' edges; `bend`: a curve (q's arrows, so they do not cover p's)."""
    (x1, y1), (x2, y2) = start, end
    dx, dy = x2 - x1, y2 - y1
    length = max((dx * dx + dy * dy) ** 0.5, 1e-6)
    ux, uy = dx / length, dy / length
    ax, ay = x1 + ux * NODE_R, y1 + uy * NODE_R
    bx, by = x2 - ux * (NODE_R + 2), y2 - uy * (NODE_R + 2)
    style = 'stroke-dasharray="6 4" class="edge q"' if dashed else 'class="edge p"'
    if bend:
        cx, cy = (ax + bx) / 2 - uy * 30, (ay + by) / 2 + ux * 30
        path = f"M{ax:.0f},{ay:.0f} Q{cx:.0f},{cy:.0f} {bx:.0f},{by:.0f}"
    else:
        path = f"M{ax:.0f},{ay:.0f} L{bx:.0f},{by:.0f}"
    return (f'<path d="{path}" fill="none" stroke="currentColor" stroke-width="2" marker-end="url(#arrow)" '
            f'{style}/>')
