"""Admin: run-time settings, validated and audited, applied at once."""

import streamlit as st

from core.setting_labels import setting_label, setting_value
from core.settings import SETTINGS, get_settings, update_setting
from ui.navigation import guard
from ui.sign_in_settings import KEYS as SIGN_IN_KEYS
from ui.sign_in_settings import save_settings, sign_in_form
from ui.state import feedback, reading, run_action

actor = guard(__file__)
st.title("System settings")
st.caption(
    "Every change is checked, written to the audit trail with its old and new value, and "
    "applies from the next page load."
)
with reading() as s:
    current = get_settings(s)

with st.form("bands"):
    st.subheader("Risk bands")
    st.caption(SETTINGS["score_bands"].help)
    cols = st.columns(3)
    lows = [
        col.number_input(
            f"{name} risk from", min_value=0.0, max_value=100.0, value=float(low), step=1.0
        )
        for col, (low, name) in zip(cols, current["score_bands"], strict=False)
    ]
    if st.form_submit_button("Save bands", icon=":material/save:"):
        bands = [[low, name] for low, (_, name) in zip(lows, current["score_bands"], strict=False)]
        run_action(lambda s, a: update_setting(s, a, "score_bands", bands), success="Bands saved.")

with st.form("settings"):
    st.subheader("Sessions, throttling, reviews, uploads and retention")
    values = {}
    for key, spec in SETTINGS.items():
        if key == "score_bands" or key in SIGN_IN_KEYS:
            continue
        label = setting_label(key)
        if spec.choices:
            values[key] = st.selectbox(
                label,
                spec.choices,
                index=spec.choices.index(current[key]),
                help=spec.help,
                format_func=lambda v, k=key: setting_value(k, v),
            )
        else:
            values[key] = int(
                st.number_input(
                    label,
                    min_value=spec.low,
                    max_value=spec.high,
                    value=int(current[key]),
                    step=1,
                    help=spec.help,
                )
            )
    if st.form_submit_button("Save settings", icon=":material/save:"):
        save_settings(values, current, "settings")
    feedback("settings")

sign_in_form(actor, current)
