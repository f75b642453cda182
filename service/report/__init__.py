"""The reproduction report: the seed paper's figures on the loaded models, as HTML with PNG figures.

It calls the same analysis functions as the API (geometry), never HTTP.
"""
