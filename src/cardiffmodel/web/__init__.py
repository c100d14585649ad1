"""The partnership's web dashboard and JSON API (``cardiff serve``).

Pages and API read the incident store through the analysis layer and publish every figure
through disclosure control; who may see what is decided on the server, per request.
"""
