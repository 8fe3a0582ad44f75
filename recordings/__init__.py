"""Recordings and prompts (issue 7).

Recording. Every answered queue call is recorded by Asterisk itself: the rendered ``queues.conf`` sets
``monitor-format = wav`` on every queue, so app_queue starts MixMonitor (option ``b``: only while bridged,
i.e. from the agent's answer to the hang-up) on the caller's channel, and the dialplan sets
``MONITOR_FILENAME=${CHANNEL(linkedid)}`` right after ``Answer()``: the file is
``<monitor_dir>/<linkedid>.wav``. We chose the queue's own setting over an AMI ``MixMonitor`` sent by the
service on ``AgentConnect`` because it records even while the service or the AMI link is down, and it
starts in the same instant as the bridge. The simulator does the same (``pbxsim/recorder.py``).

After the call (``service.RecordingKeeper``, a task owned by ``Hotline``): the spool file of a finished
call is converted to the storage format (``opus``/``mp3``/``wav``, ``HOTLINE_RECORDINGS_FORMAT``) with
ffmpeg, the converted file is decoded back and its duration compared with the original (50 ms), size,
SHA-256 and format are stored in ``recordings`` (linked to ``calls`` by ``linkedid``), optionally encrypted
(AES-256-GCM, ``HOTLINE_RECORDINGS_KEY``); only then is the original removed. The retention policy
(``policy.py``, pure, explicit ``now``) keeps each category for its number of days (``crisis`` longer);
the purge job removes expired files, marks the rows ``purged`` and logs each removal.

Prompts (``prompts.py``): uploads (wav, mp3, m4a) become ``<sounds>/<prompt_set>/<name>.wav`` (8 kHz mono
16-bit) plus ``.ulaw`` and ``.alaw`` (raw G.711, as Asterisk plays them); ``hotline prompts build``
drafts missing prompts from the YAML texts with espeak-ng.

We call ffmpeg directly (``audio.py``) rather than through pydub: pydub probes non-WAV input with
``ffprobe``, which the imageio-ffmpeg wheel does not ship, and it holds whole files in memory.
"""
